/**
 * A trial boot: the candidate (new kernel and/or new args) boots once, while the saved default stays a frozen
 * copy of the known-good state. A hang then a power reset, or a panic with panic=N, lands on the known-good entry
 * by itself; only after verification does the candidate become the default (as greenboot marks a boot good).
 *
 * One interface for every boot loader, a driver per boot stack (registry.ts): GRUB classic menus (grub-trial.ts:
 * grub-reboot + GRUB_DEFAULT=saved), GRUB with BLS entries (bls-trial.ts: next_entry / saved_entry naming entry
 * files), systemd-boot (sdboot-trial.ts: `bootctl set-default` to a copied loader entry, `bootctl set-oneshot` for
 * the trial, the LoaderEntryOneShot EFI variable being cleared by the boot loader itself).
 */
import type { Connection } from '../connection/connection.js';
import type { BootTooling } from '../modules/boot/boot-tooling.js';
import type { HostRoot } from '../modules/host-root.js';
import type { UndoRecord } from '../modules/module.js';
import type { VerificationCheck } from '../events/events.js';

/** Why a one-shot cannot be trusted on this host; the rollout refuses to start there. */
export interface PreflightProblem {
  check: string;
  message: string;
  hint: string;
}

export interface PreflightResult {
  ok: boolean;
  problems: PreflightProblem[];
  /** What was found, for the journal and `rollgate show`. */
  facts: Record<string, string>;
}

/** What prepare recorded on the host; journaled so resume and rollback can find it again. */
export interface TrialBootState {
  loader: 'grub' | 'grub-bls' | 'systemd-boot';
  /** Kernel release that was running when the known-good entry was frozen. */
  knownGoodRelease: string;
  /** Its args, as /proc/cmdline showed them (without BOOT_IMAGE). */
  knownGoodArgs: string[];
  /** Boot-loader reference of the frozen entry (grub-set-default, grubenv or bootctl accept it). */
  knownGoodRef: string;
  /** Host path prefix of the copies, e.g. /boot/rollgate/. */
  copiesDir: string;
  /** GRUB's path prefix of the copies as BOOT_IMAGE will show it, e.g. /boot/rollgate/ or /rollgate/. */
  bootImagePrefix: string;
  /** The frozen entry's GRUB text, rewritten as is whenever rollgate.cfg is. */
  frozenEntry?: string;
  /** Set by arm: the normal entry that becomes the default on commit, and the one-shot trial's own ref. */
  candidateRef?: string;
  candidateRelease?: string;
  trialRef?: string;
  trialArgs?: string[];
}

/** Which boot the host is on now. */
export type BootSide = 'fallback' | 'trial' | 'other';

/**
 * From what the boot loader says (systemd-boot's LoaderEntrySelected, compared with the frozen and trial entry
 * ids) when it says it, else from /proc/cmdline: GRUB's BOOT_IMAGE under the copies' prefix is the frozen entry,
 * the trial's args (with their panic=N) the trial.
 */
export function bootSide(
  boot: string | { cmdline: string; loaderEntry?: string },
  state: Pick<TrialBootState, 'bootImagePrefix' | 'trialArgs'> &
    Partial<Pick<TrialBootState, 'knownGoodRef' | 'trialRef'>>,
): BootSide {
  const { cmdline, loaderEntry } = typeof boot === 'string' ? { cmdline: boot, loaderEntry: undefined } : boot;
  if (loaderEntry && state.knownGoodRef && loaderEntry === state.knownGoodRef) return 'fallback';
  if (loaderEntry && state.trialRef && loaderEntry === state.trialRef) return 'trial';
  // GRUB's blscfg (Fedora) boots `linux ($root)/vmlinuz-...`, so BOOT_IMAGE starts with the GRUB device.
  const image = (/(?:^|\s)BOOT_IMAGE=(\S+)/.exec(cmdline)?.[1] ?? '').replace(/^\([^)]*\)/, '');
  if (image !== '' && image.startsWith(state.bootImagePrefix)) return 'fallback';
  const words = new Set(cmdline.trim().split(/\s+/));
  if (state.trialArgs && state.trialArgs.length > 0 && state.trialArgs.every((a) => words.has(a))) return 'trial';
  return 'other';
}

export interface TrialBootDriver {
  readonly loader: TrialBootState['loader'];
  /** Read-only: can a one-shot be trusted here? */
  preflight(): Promise<PreflightResult>;
  /**
   * Freeze the running kernel/initrd/args as the saved default. Calls `recordUndo` with everything needed to
   * take it away again before the first change on the host.
   */
  prepare(recordUndo: (undo: UndoRecord) => void): Promise<TrialBootState>;
  /** After the change modules regenerated the boot config: make the candidate the next boot, once. */
  arm(state: TrialBootState, candidate: { release?: string; panicSec: number }): Promise<TrialBootState>;
  /** The trial verified: the candidate becomes the default, the frozen entry and copies go. */
  commit(state: TrialBootState): Promise<void>;
  /**
   * After a rollback (host on the known-good boot, the change's files restored and rebuilt): the normal entry
   * of the known-good kernel becomes the default again and the frozen entry goes. Returns what became default.
   */
  release(state: TrialBootState): Promise<{ defaultRef: string; note?: string }>;
  /**
   * Checks of the trial boot itself, added to the candidate's verification: what the commit will need from the
   * booted candidate (systemd-boot: its EFI variables, without which `bootctl set-default` cannot commit). A
   * failed one rolls the host back like any other verification failure, never a commit that stops half-way.
   */
  trialChecks?(state: TrialBootState): Promise<VerificationCheck[]>;
}

/**
 * A host's boot stack as modules/boot detects it; `grub-bls` when GRUB builds its menu from BLS entries
 * (GRUB_ENABLE_BLSCFG=true, Fedora/RHEL), `undetected` when no tooling rollgate knows was found.
 */
export type BootStack = BootTooling['kind'] | 'grub-bls' | 'undetected';

/** One trial-boot driver in the registry (registry.ts). */
export interface TrialBootDefinition {
  /** What it journals in `TrialBootState.loader`; resume, commit and rollback find the driver by it. */
  loader: TrialBootState['loader'];
  /** The detected boot stacks it drives; the first definition listing a host's stack is chosen. */
  stacks: readonly BootStack[];
  create(conn: Connection, hr: HostRoot, opts: { resuming?: boolean }): TrialBootDriver;
}
