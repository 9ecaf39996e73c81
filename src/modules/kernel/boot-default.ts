/**
 * Which kernel the next normal boot runs, and the command that makes another installed release the default:
 * grubby where it is installed (`--set-default`), else GRUB with GRUB_DEFAULT=saved (`grub-set-default` with the
 * entry's submenu path, or the BLS entry id when grub.cfg reads loader entries); on a host booted by systemd-boot,
 * `bootctl set-default ID.conf` with the target's loader entry (written by the kernel package's kernel-install
 * hook). A staged rollout's frozen default (saved_entry=rollgate-known-good, or LoaderEntryDefault=
 * rollgate-known-good.conf) is the rollout's to move: the trial boot arms the target and the commit makes it the
 * default.
 */
import type { Connection } from '../../connection/connection.js';
import { findTools, toolCommand, type HostRoot } from '../host-root.js';
import { listRemoteDir, readRemoteFiles } from '../host-files.js';
import { blsEntryForRelease, blsRelease, parseBlsEntry } from '../boot/bls-entry.js';
import { ENTRY_ROOTS } from '../initramfs/loader-copies.js';
import { entryForRelease, kernelRelease, parseGrubMenu, type GrubEntry } from '../boot/grub-menu.js';
import { ModuleFailure } from '../module.js';
import type { BootDefault } from './kernel-set.js';

/** The saved default a staged rollout sets while it holds a host (src/trial-boot/grub-trial.ts). */
export const ROLLOUT_KNOWN_GOOD_ENTRY = 'rollgate-known-good';

export interface DefaultBoot {
  /** The release the next normal boot runs, null when it cannot be told. */
  release: string | null;
  /** The command that makes the target the default; null when it already is or the rollout holds the default. */
  command: string | null;
  /** The rollout's frozen entry is the saved default: the trial boot will arm the target instead. */
  heldByRollout: boolean;
  /** systemd-boot: the command that puts the default back as it was (undo), when `command` moves it. */
  restore?: string;
}

/** systemd-boot's entries (every $BOOT), as `bootctl` names them (file name without a boot counter, `.conf`). */
async function loaderEntries(conn: Connection, hr: HostRoot): Promise<Array<{ id: string; release: string | null }>> {
  const out: Array<{ id: string; release: string | null }> = [];
  for (const root of ENTRY_ROOTS) {
    const files = await readRemoteFiles(conn, await listRemoteDir(conn, hr.path(`${root}/loader/entries`), '*.conf'));
    for (const f of files.filter((x) => x.exists)) {
      const e = parseBlsEntry(f.path.split('/').pop() ?? '', f.exists ? f.content.toString('utf8') : '');
      out.push({ id: `${e.id}.conf`, release: blsRelease(e) });
    }
  }
  return out;
}

async function sdbootDefault(conn: Connection, hr: HostRoot, boot: BootDefault, target: string): Promise<DefaultBoot> {
  const entries = await loaderEntries(conn, hr);
  const current = boot.loaderEntryDefault ?? null;
  const release = entries.find((e) => e.id === current)?.release ?? null;
  if (release === target) return { release, command: null, heldByRollout: false };
  const bootctl = (await findTools(conn, hr, ['bootctl'])).bootctl;
  if (!bootctl)
    throw new ModuleFailure(
      `cannot make ${target} the default boot entry: the host booted systemd-boot, bootctl is not installed`,
    );
  const hit = blsEntryForRelease(
    entries.map((e) => ({ id: e.id, fileName: e.id, text: '', fields: { version: e.release ?? '' }, initrd: [] })),
    target,
  );
  if (!hit)
    throw new ModuleFailure(
      `no loader entry boots ${target}: the kernel package's kernel-install hook wrote none (kernel-install add ${target} ...)`,
    );
  return {
    release,
    command: toolCommand(hr, bootctl, ['set-default', hit.id]).text,
    heldByRollout: false,
    restore: toolCommand(hr, bootctl, ['set-default', current ?? '']).text,
  };
}

interface BlsEntry {
  id: string;
  release: string | null;
}

async function blsEntries(conn: Connection, hr: HostRoot): Promise<BlsEntry[]> {
  const files = await listRemoteDir(conn, hr.path('/boot/loader/entries'), '*.conf');
  const read = await readRemoteFiles(conn, files);
  return read.map((f) => {
    const text = f.exists ? f.content.toString('utf8') : '';
    const linux = /^linux\s+(\S+)/m.exec(text)?.[1] ?? null;
    return { id: f.path.replace(/^.*\//, '').replace(/\.conf$/, ''), release: kernelRelease(linux) };
  });
}

/** The grub.cfg entry GRUB_DEFAULT / saved_entry names: a ref, an id, a title, or a top-level index. */
function grubEntryFor(entries: readonly GrubEntry[], key: string): GrubEntry | undefined {
  if (/^\d+$/.test(key)) return entries.filter((e) => !e.nested)[Number(key)];
  return entries.find((e) => e.ref === key || e.id === key || e.title === key);
}

export async function defaultBoot(
  conn: Connection,
  hr: HostRoot,
  boot: BootDefault,
  target: string,
): Promise<DefaultBoot> {
  if (boot.savedEntry === ROLLOUT_KNOWN_GOOD_ENTRY || boot.loaderEntryDefault === `${ROLLOUT_KNOWN_GOOD_ENTRY}.conf`)
    return { release: null, command: null, heldByRollout: true };
  if (boot.loaderInfo?.startsWith('systemd-boot')) return sdbootDefault(conn, hr, boot, target);
  const tools = await findTools(conn, hr, ['grubby', 'grub-set-default', 'grub2-set-default']);
  const bls = await blsEntries(conn, hr);
  const [grubCfg, grub2Cfg] = await readRemoteFiles(conn, [
    hr.path('/boot/grub/grub.cfg'),
    hr.path('/boot/grub2/grub.cfg'),
  ]);
  const cfg = [grubCfg, grub2Cfg].find((f) => f?.exists);
  const entries = cfg?.exists ? parseGrubMenu(cfg.content.toString('utf8')) : [];
  const key = boot.grubDefault === 'saved' ? (boot.savedEntry ?? '0') : (boot.grubDefault ?? '0');
  const release =
    (boot.grubbyDefault ? kernelRelease(boot.grubbyDefault) : null) ??
    bls.find((e) => e.id === key)?.release ??
    kernelRelease(grubEntryFor(entries, key)?.kernel ?? null);
  if (release === target) return { release, command: null, heldByRollout: false };

  if (tools.grubby)
    return {
      release,
      command: toolCommand(hr, tools.grubby, [`--set-default=/boot/vmlinuz-${target}`]).text,
      heldByRollout: false,
    };
  const setDefault = tools['grub-set-default'] ?? tools['grub2-set-default'];
  if (!cfg?.exists && bls.length === 0)
    throw new ModuleFailure(
      `cannot make ${target} the default boot entry: no grub.cfg, no boot loader entries and no grubby on this host`,
    );
  if (boot.grubDefault !== 'saved') {
    throw new ModuleFailure(
      `GRUB_DEFAULT=${boot.grubDefault ?? '(unset)'} boots ${release ?? 'another kernel'}, not ${target}: set GRUB_DEFAULT=saved in /etc/default/grub and run update-grub, so the default entry can be chosen`,
    );
  }
  const ref = bls.find((e) => e.release === target)?.id ?? entryForRelease(entries, target)?.ref;
  if (!ref)
    throw new ModuleFailure(`no boot entry runs ${target}: regenerate the boot menu (update-grub) and try again`);
  if (!setDefault)
    throw new ModuleFailure(`cannot make ${target} the default boot entry: grub-set-default is not installed`);
  return {
    release,
    command: toolCommand(hr, setDefault, [`--boot-directory=${hr.path('/boot')}`, ref]).text,
    heldByRollout: false,
  };
}

/**
 * On a host booted by systemd-boot and not held by a rollout: the command that puts LoaderEntryDefault back as it
 * is now (an empty id removes it), for the undo of a change that may move it. Null elsewhere.
 */
export async function sdbootDefaultRestore(conn: Connection, hr: HostRoot, boot: BootDefault): Promise<string | null> {
  if (!boot.loaderInfo?.startsWith('systemd-boot')) return null;
  if (boot.loaderEntryDefault === `${ROLLOUT_KNOWN_GOOD_ENTRY}.conf`) return null;
  const bootctl = (await findTools(conn, hr, ['bootctl'])).bootctl;
  return bootctl ? toolCommand(hr, bootctl, ['set-default', boot.loaderEntryDefault ?? '']).text : null;
}
