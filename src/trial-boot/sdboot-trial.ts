/**
 * The trial boot on systemd-boot, through the host's `bootctl` (the EFI variables of the Boot Loader Interface):
 *   prepare  the running kernel and initrd are copied to $BOOT/rollgate/ (sha256-verified); a copy of the running
 *            entry (rollgate-known-good.conf: the copies, the running args, every other line kept) becomes the
 *            default, `bootctl set-default` (LoaderEntryDefault), read back from efivarfs
 *   arm      a copy of the candidate's entry with panic=N (rollgate-trial.conf) is set once, `bootctl set-oneshot
 *            rollgate-trial.conf`: systemd-boot removes LoaderEntryOneShot as it boots it, so a panic or a reset
 *            after a hang lands on the frozen default by itself, and the trial is never chosen again. The trial has
 *            no boot counter (`+1`): systemd-boot up to 257 gives a counted entry the id of its file name, counter
 *            and all, where bootctl strips it (systemd#38813), so a one-shot to `rollgate-trial.conf` matched no
 *            entry on Debian 12's 252 and the default booted (seen on the systemd-boot lab VM); the one-shot alone
 *            falls back
 *   commit   after rollgate's verification only: the candidate's own entry is blessed (a boot counter that
 *            kernel-install wrote with /etc/kernel/tries is renamed away, what systemd-bless-boot does for the
 *            booted entry) and becomes the default; rollgate's entries and copies go
 *   release  after a rollback: the known-good kernel's own entry becomes the default again, ours go
 * Which entry booted is LoaderEntrySelected (BootInfo.loaderEntry), systemd-boot adding no BOOT_IMAGE.
 * Booted on the systemd-boot lab VM (test/e2e/systemd-boot-lab.test.ts: commit and a verification-failure
 * rollback); every path also on real loader entry files over SSH with a double of bootctl.
 */
import type { Connection } from '../connection/connection.js';
import { sh } from '../connection/shell-quote.js';
import { blsEntryForRelease, blsRelease, rewriteBlsEntry, splitBootCounter } from '../modules/boot/bls-entry.js';
import { bootArgs, comparableArgs } from '../modules/boot/grub-menu.js';
import { loaderVarPath, readLoaderVarCommand, type LoaderVar } from '../modules/boot/loader-vars.js';
import { copyRemoteFile, missingDirs, readRemoteFiles, toBackup, writeRemoteFile } from '../modules/host-files.js';
import { runChecked, toolCommand, type HostRoot } from '../modules/host-root.js';
import { ModuleFailure, type UndoRecord } from '../modules/module.js';
import {
  SDBOOT_KNOWN_GOOD,
  SDBOOT_TRIAL,
  evaluateSdBootPreflight,
  gatherSdBootFacts,
  sdbootId,
  type SdBootEntry,
  type SdBootFacts,
} from './sdboot-preflight.js';
import type { PreflightResult, TrialBootDefinition, TrialBootDriver, TrialBootState } from './trial-boot.js';
import type { VerificationCheck } from '../events/events.js';

/** The trial's file name, and the counted names earlier versions wrote (removed with it). */
const TRIAL_FILES = [SDBOOT_TRIAL, 'rollgate-trial+1.conf', 'rollgate-trial+0-1.conf'];
const argsOf = (s: string) => s.split(/\s+/).filter((a) => a !== '');

export class SdBootTrialBoot implements TrialBootDriver {
  readonly loader = 'systemd-boot';
  private facts: SdBootFacts | undefined;

  constructor(
    private readonly conn: Connection,
    private readonly hr: HostRoot,
    private readonly opts: { resuming?: boolean } = {},
  ) {}

  private async gather(): Promise<SdBootFacts> {
    this.facts = await gatherSdBootFacts(this.conn, this.hr);
    return this.facts;
  }

  async preflight(): Promise<PreflightResult> {
    return evaluateSdBootPreflight(await this.gather(), this.opts);
  }

  private entriesDir(bootRoot: string): string {
    return this.hr.path(`${bootRoot}/loader/entries`);
  }
  private bootctl(args: string[]) {
    const tool = this.facts?.bootctl;
    if (!tool) throw new ModuleFailure(`bootctl not found on ${this.conn.host}`);
    return toolCommand(this.hr, tool, args);
  }

  private async readVar(name: LoaderVar): Promise<string> {
    return (await runChecked(this.conn, readLoaderVarCommand(this.hr, name), `reading ${name}`)).trim();
  }

  /** `bootctl set-default|set-oneshot ID`, then the EFI variable read back. */
  private async setVar(verb: 'set-default' | 'set-oneshot', id: string): Promise<void> {
    await runChecked(this.conn, this.bootctl([verb, id]), `bootctl ${verb}`);
    const name = verb === 'set-default' ? 'LoaderEntryDefault' : 'LoaderEntryOneShot';
    const now = await this.readVar(name);
    if (now !== id)
      throw new ModuleFailure(`${name} on ${this.conn.host} is ${JSON.stringify(now)} after bootctl ${verb} ${id}`);
  }

  async prepare(recordUndo: (undo: UndoRecord) => void): Promise<TrialBootState> {
    const facts = this.facts ?? (await this.gather());
    const pf = evaluateSdBootPreflight(facts, this.opts);
    const release = facts.values.release ?? '';
    const source = blsEntryForRelease(facts.entries, release) as SdBootEntry | undefined;
    if (!pf.ok || !source)
      throw new ModuleFailure(
        `trial boot preflight failed on ${this.conn.host}: ${pf.problems.map((p) => p.message).join('; ')}`,
      );
    const B = source.bootRoot;
    const copy = (p: string) => `/rollgate/${p.split('/').pop() ?? ''}`;
    const files = [source.fields.linux ?? '', ...source.initrd].map((p) => ({
      host: `${B}${p}`,
      copy: `${B}${copy(p)}`,
    }));
    const args = bootArgs(facts.values.cmdline ?? '');
    const frozen = rewriteBlsEntry(
      source,
      { title: `rollgate known-good (${release})`, linux: copy(source.fields.linux ?? ''), options: args.join(' ') },
      source.initrd.map(copy),
    );
    const dir = this.entriesDir(B);
    const touched = [SDBOOT_KNOWN_GOOD, ...TRIAL_FILES].map((f) => `${dir}/${f}`);
    const before = await readRemoteFiles(this.conn, [...touched, ...files.map((f) => this.hr.path(f.copy))]);
    const createdDirs = await missingDirs(this.conn, this.hr.path(`${B}/rollgate`));
    const oldDefault = facts.values.LoaderEntryDefault ?? '';
    recordUndo({
      files: before.map(toBackup),
      createdDirs,
      rebuild: [],
      // The EFI variables are the boot loader's: put back as they were through bootctl (an empty id unsets). Safe
      // whatever part of the step ran (setting the old value again changes nothing), so a restore, not a reversal.
      restore: [this.bootctl(['set-oneshot', '']).text, this.bootctl(['set-default', oldDefault]).text],
      extra: { trialBoot: 'systemd-boot-prepare', loaderEntryDefault: oldDefault },
    });

    await runChecked(this.conn, sh`mkdir -p ${this.hr.path(`${B}/rollgate`)}`, `mkdir ${B}/rollgate`);
    for (const f of files) await copyRemoteFile(this.conn, this.hr.path(f.host), this.hr.path(f.copy));
    await writeRemoteFile(this.conn, `${dir}/${SDBOOT_KNOWN_GOOD}`, frozen);
    await this.setVar('set-default', SDBOOT_KNOWN_GOOD);
    return {
      loader: 'systemd-boot',
      knownGoodRelease: release,
      knownGoodArgs: args,
      knownGoodRef: SDBOOT_KNOWN_GOOD,
      copiesDir: `${B}/rollgate/`,
      // systemd-boot passes no BOOT_IMAGE: bootSide goes by LoaderEntrySelected.
      bootImagePrefix: `${B}/rollgate/`,
      frozenEntry: frozen,
    };
  }

  async arm(state: TrialBootState, candidate: { release?: string; panicSec: number }): Promise<TrialBootState> {
    const facts = await this.gather();
    const wanted = candidate.release ?? state.knownGoodRelease;
    const target = blsEntryForRelease(facts.entries, wanted) as SdBootEntry | undefined;
    if (!target) throw new ModuleFailure(`no loader entry boots the candidate ${wanted} on ${this.conn.host}`);
    const trialArgs = [
      ...argsOf(target.fields.options ?? '').filter((a) => !a.startsWith('panic=')),
      `panic=${candidate.panicSec}`,
    ];
    const release = blsRelease(target) ?? wanted;
    const trial = rewriteBlsEntry(target, { title: `rollgate trial (${release})`, options: trialArgs.join(' ') });
    const dir = this.entriesDir(target.bootRoot);
    const frozenRoot = state.copiesDir.replace(/\/rollgate\/$/, '');
    if (frozenRoot !== target.bootRoot)
      throw new ModuleFailure(
        `the candidate's entry is under ${target.bootRoot}, the known-good copies under ${frozenRoot}: systemd-boot reads one of them`,
      );
    await runChecked(this.conn, sh`rm -f -- ${TRIAL_FILES.map((f) => `${dir}/${f}`)}`, 'removing an older trial entry');
    if (state.frozenEntry) await writeRemoteFile(this.conn, `${dir}/${SDBOOT_KNOWN_GOOD}`, state.frozenEntry);
    await writeRemoteFile(this.conn, `${dir}/${SDBOOT_TRIAL}`, trial);
    await runChecked(this.conn, sh`sync`, 'sync');
    await this.setVar('set-default', SDBOOT_KNOWN_GOOD);
    await this.setVar('set-oneshot', SDBOOT_TRIAL);
    return { ...state, candidateRef: sdbootId(target), candidateRelease: release, trialRef: SDBOOT_TRIAL, trialArgs };
  }

  private async removeOurs(bootRoot: string): Promise<void> {
    const dir = this.entriesDir(bootRoot);
    const paths = [SDBOOT_KNOWN_GOOD, ...TRIAL_FILES].map((f) => `${dir}/${f}`);
    await runChecked(
      this.conn,
      sh`rm -f -- ${paths} && rm -rf -- ${this.hr.path(`${bootRoot}/rollgate`)} && sync`,
      "removing rollgate's entries and the known-good copies",
    );
  }

  /** Rename a boot-counted entry file to its blessed name (what systemd-bless-boot does), verified. */
  private async bless(entry: SdBootEntry): Promise<void> {
    if (splitBootCounter(entry.fileName).left === undefined) return;
    const dir = this.entriesDir(entry.bootRoot);
    await runChecked(
      this.conn,
      sh`mv -- ${`${dir}/${entry.fileName}`} ${`${dir}/${sdbootId(entry)}`} && sync`,
      `blessing ${entry.fileName}`,
    );
  }

  async commit(state: TrialBootState): Promise<void> {
    if (!state.candidateRef) throw new ModuleFailure('commit before arm: no candidate entry');
    const entry = (await this.gather()).entries.find((e) => sdbootId(e) === state.candidateRef);
    if (!entry) throw new ModuleFailure(`the candidate entry ${state.candidateRef} is gone on ${this.conn.host}`);
    await this.bless(entry);
    // The default first: until it moves, the frozen entry must stay (a failed set-default leaves the host on
    // its known-good default, not on a default that names a removed file).
    await this.setVar('set-default', sdbootId(entry));
    await this.removeOurs(entry.bootRoot);
  }

  /**
   * The candidate booted the trial entry by systemd-boot's own account (LoaderEntrySelected), so the EFI variables
   * the commit writes are there: a kernel without efivarfs (the lab's trimmed update kernel showed it) verified
   * green and then could not be committed.
   */
  async trialChecks(state: TrialBootState): Promise<VerificationCheck[]> {
    const path = loaderVarPath(this.hr, 'LoaderEntrySelected');
    const r = await this.conn.exec(
      sh`if [ -d ${this.hr.path('/sys/firmware/efi/efivars')} ] && ls ${this.hr.path('/sys/firmware/efi/efivars')} | grep -q .; then ${readLoaderVarCommand(this.hr, 'LoaderEntrySelected')}; else echo '(no efivarfs)'; fi`,
    );
    const seen = r.stdout.trim();
    const want = state.trialRef ?? '';
    return [
      {
        name: 'boot_loader',
        ok: seen === want,
        required: true,
        expected: `LoaderEntrySelected ${want}`,
        actual:
          seen === '(no efivarfs)'
            ? 'EFI variables unreadable (no efivarfs on this kernel): bootctl cannot commit'
            : `LoaderEntrySelected ${seen || '(unset)'}`,
        evidence: [path],
      },
    ];
  }

  async release(state: TrialBootState): Promise<{ defaultRef: string; note?: string }> {
    const facts = await this.gather();
    const wanted = comparableArgs(state.knownGoodArgs);
    const entry = blsEntryForRelease(facts.entries, state.knownGoodRelease) as SdBootEntry | undefined;
    if (!entry || comparableArgs(argsOf(entry.fields.options ?? '')) !== wanted)
      throw new ModuleFailure(
        `after the undo, no loader entry on ${this.conn.host} boots ${state.knownGoodRelease} with the known-good args (${wanted}); the frozen entry stays the default`,
      );
    await this.setVar('set-default', sdbootId(entry));
    await this.removeOurs(entry.bootRoot);
    const other = state.candidateRelease;
    if (!other || other === state.knownGoodRelease || !blsEntryForRelease(facts.entries, other))
      return { defaultRef: sdbootId(entry) };
    return {
      defaultRef: sdbootId(entry),
      note: `default pinned to ${state.knownGoodRelease}: ${other} is still installed and is not the known-good one`,
    };
  }
}

/** The systemd-boot driver in the trial-boot registry. */
export const sdbootTrialBoot: TrialBootDefinition = {
  loader: 'systemd-boot',
  stacks: ['systemd-boot'],
  create: (conn, hr, opts) => new SdBootTrialBoot(conn, hr, opts),
};
