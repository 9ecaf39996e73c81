/**
 * The trial boot on GRUB with BLS entries (Fedora/RHEL, GRUB_ENABLE_BLSCFG=true). GRUB's blscfg builds the menu
 * from /boot/loader/entries at boot, each entry's id being its file name, so no grub2-mkconfig runs:
 *   prepare  the running kernel and initramfs are copied to /boot/rollgate/ (sha256-verified), a copy of its entry
 *            (id rollgate-known-good: the copies, the running args, every other line kept) becomes saved_entry
 *   arm      a copy of the candidate's entry with panic=N (id rollgate-trial) becomes next_entry, as grub2-reboot
 *            sets it; GRUB's 00_header clears it when it boots it, so a reset lands on the frozen entry
 *   commit   rollgate's entries and copies go; the candidate's own entry becomes the default (grubby --set-default,
 *            or grub-editenv where grubby is missing), read back from grubenv
 *   release  after a rollback: the known-good kernel's own entry becomes the default again, ours go
 * Proven on real entry files and the real grub-editenv over SSH; never booted (no Fedora VM here).
 */
import type { Connection } from '../connection/connection.js';
import { sh } from '../connection/shell-quote.js';
import { blsEntryForRelease, blsRelease, rewriteBlsEntry, type BlsEntry } from '../modules/boot/bls-entry.js';
import { bootArgs, comparableArgs, copyPathFor } from '../modules/boot/grub-menu.js';
import { copyRemoteFile, missingDirs, readRemoteFiles, toBackup, writeRemoteFile } from '../modules/host-files.js';
import { runChecked, toolCommand, type HostRoot } from '../modules/host-root.js';
import { ModuleFailure, type UndoRecord } from '../modules/module.js';
import {
  BLS_DIR,
  BLS_OURS,
  evaluateBlsPreflight,
  gatherBlsFacts,
  type BlsFacts,
  type BlsTools,
} from './bls-preflight.js';
import type { PreflightResult, TrialBootDefinition, TrialBootDriver, TrialBootState } from './trial-boot.js';

const [KNOWN_GOOD_ID, TRIAL_ID] = BLS_OURS;
const COPIES = '/boot/rollgate';
/** A path in an entry (relative to the partition holding /boot, or under /boot) as a host path. */
const hostOf = (p: string) => (p.startsWith('/boot/') ? p : `/boot${p}`);
const argsOf = (s: string) => s.split(/\s+/).filter((a) => a !== '');

export class BlsTrialBoot implements TrialBootDriver {
  readonly loader = 'grub-bls';
  private tools: BlsTools = {};
  private facts: BlsFacts | undefined;

  constructor(
    private readonly conn: Connection,
    private readonly hr: HostRoot,
    private readonly opts: { resuming?: boolean } = {},
  ) {}

  private async gather(): Promise<BlsFacts> {
    const { facts, tools } = await gatherBlsFacts(this.conn, this.hr);
    this.facts = facts;
    this.tools = tools;
    return facts;
  }

  async preflight(): Promise<PreflightResult> {
    return evaluateBlsPreflight(await this.gather(), this.tools, this.opts);
  }

  private entryPath(id: string): string {
    return this.hr.path(`${BLS_DIR}/${id}.conf`);
  }
  private grubenv(): string {
    return this.hr.path(`${this.facts?.values.grubdir || '/boot/grub2'}/grubenv`);
  }
  private editenv(args: string[]) {
    if (!this.tools.editenv) throw new ModuleFailure(`grub2-editenv / grub-editenv not found on ${this.conn.host}`);
    return toolCommand(this.hr, this.tools.editenv, [this.grubenv(), ...args]);
  }

  /** saved_entry and next_entry as grub-editenv lists them. */
  async readEnv(): Promise<Record<string, string>> {
    if (!this.facts) await this.gather();
    const out = await runChecked(this.conn, this.editenv(['list']), 'grub-editenv list');
    const pairs = out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
    return Object.fromEntries(pairs) as Record<string, string>;
  }

  private async setEnv(name: 'saved_entry' | 'next_entry', id: string): Promise<void> {
    await runChecked(this.conn, this.editenv(['set', `${name}=${id}`]), `grub-editenv set ${name}`);
    await runChecked(this.conn, sh`sync`, 'sync');
  }

  private async expectEnv(want: Record<string, string>, when: string): Promise<void> {
    const env = await this.readEnv();
    const wrong = Object.entries(want).filter(([k, v]) => env[k] !== v);
    if (wrong.length)
      throw new ModuleFailure(
        `grubenv on ${this.conn.host} says ${wrong.map(([k]) => `${k}=${env[k] ?? '(unset)'}`).join(' ')} ${when}, expected ${wrong.map(([k, v]) => `${k}=${v}`).join(' ')}`,
      );
  }

  async prepare(recordUndo: (undo: UndoRecord) => void): Promise<TrialBootState> {
    const facts = this.facts ?? (await this.gather());
    const pf = evaluateBlsPreflight(facts, this.tools, this.opts);
    const release = facts.values.release ?? '';
    const source = blsEntryForRelease(facts.entries, release);
    if (!pf.ok || !source)
      throw new ModuleFailure(
        `trial boot preflight failed on ${this.conn.host}: ${pf.problems.map((p) => p.message).join('; ')}`,
      );
    const linux = source.fields.linux ?? '';
    const files = [linux, ...source.initrd].map((p) => ({ host: hostOf(p), copyHost: hostOf(copyPathFor(p)) }));
    const args = bootArgs(facts.values.cmdline ?? '');
    const frozen = rewriteBlsEntry(
      source,
      { title: `rollgate known-good (${release})`, linux: copyPathFor(linux), options: args.join(' ') },
      source.initrd.map((p) => copyPathFor(p)),
    );
    const touched = [
      this.entryPath(KNOWN_GOOD_ID),
      this.entryPath(TRIAL_ID),
      this.grubenv(),
      ...files.map((f) => this.hr.path(f.copyHost)),
    ];
    const before = await readRemoteFiles(this.conn, touched);
    const createdDirs = await missingDirs(this.conn, this.hr.path(COPIES));
    recordUndo({ files: before.map(toBackup), createdDirs, rebuild: [], extra: { trialBoot: 'grub-bls-prepare' } });

    await runChecked(this.conn, sh`mkdir -p ${this.hr.path(COPIES)}`, `mkdir ${COPIES}`);
    for (const f of files) await copyRemoteFile(this.conn, this.hr.path(f.host), this.hr.path(f.copyHost));
    await writeRemoteFile(this.conn, this.entryPath(KNOWN_GOOD_ID), frozen);
    await this.setEnv('saved_entry', KNOWN_GOOD_ID);
    await this.expectEnv({ saved_entry: KNOWN_GOOD_ID }, 'after freezing the known-good entry');
    return {
      loader: 'grub-bls',
      knownGoodRelease: release,
      knownGoodArgs: args,
      knownGoodRef: KNOWN_GOOD_ID,
      copiesDir: `${COPIES}/`,
      // blscfg boots `linux ($root)PATH`: bootSide drops the device, leaving the entry's own path.
      bootImagePrefix: copyPathFor(linux).replace(/[^/]+$/, ''),
      frozenEntry: frozen,
    };
  }

  async arm(state: TrialBootState, candidate: { release?: string; panicSec: number }): Promise<TrialBootState> {
    const facts = await this.gather();
    const wanted = candidate.release ?? state.knownGoodRelease;
    const target = blsEntryForRelease(facts.entries, wanted);
    if (!target) throw new ModuleFailure(`no entry in ${BLS_DIR} boots the candidate ${wanted} on ${this.conn.host}`);
    const options = target.fields.options ?? '';
    if (options.includes('$'))
      throw new ModuleFailure(`${target.fileName} takes its options from a GRUB variable (${options})`);
    const trialArgs = [...argsOf(options).filter((a) => !a.startsWith('panic=')), `panic=${candidate.panicSec}`];
    const release = blsRelease(target) ?? wanted;
    const trial = rewriteBlsEntry(target, { title: `rollgate trial (${release})`, options: trialArgs.join(' ') });
    // grubby --update-kernel=ALL (kernel_args) edits every entry, the frozen one included: write it back as frozen.
    if (state.frozenEntry) await writeRemoteFile(this.conn, this.entryPath(KNOWN_GOOD_ID), state.frozenEntry);
    await writeRemoteFile(this.conn, this.entryPath(TRIAL_ID), trial);
    // A kernel installed since (20-grub.install, UPDATEDEFAULT=yes) made itself saved_entry: the frozen one again.
    await this.setEnv('saved_entry', KNOWN_GOOD_ID);
    await this.setEnv('next_entry', TRIAL_ID);
    await this.expectEnv({ next_entry: TRIAL_ID, saved_entry: KNOWN_GOOD_ID }, 'after arming');
    return { ...state, candidateRef: target.id, candidateRelease: release, trialRef: TRIAL_ID, trialArgs };
  }

  private async removeOurs(): Promise<void> {
    const paths = BLS_OURS.map((id) => this.entryPath(id));
    await runChecked(
      this.conn,
      sh`rm -f -- ${paths} && rm -rf -- ${this.hr.path(COPIES)} && sync`,
      "removing rollgate's entries and the known-good copies",
    );
  }

  /** The entry becomes saved_entry: through grubby as Fedora does where it is installed, then read back. */
  private async setDefault(entry: BlsEntry): Promise<void> {
    if (this.tools.grubby) {
      const kernel = hostOf(entry.fields.linux ?? '');
      await runChecked(
        this.conn,
        toolCommand(this.hr, this.tools.grubby, [`--set-default=${kernel}`]),
        'grubby --set-default',
      );
      await runChecked(this.conn, sh`sync`, 'sync');
    } else await this.setEnv('saved_entry', entry.id);
    await this.expectEnv({ saved_entry: entry.id }, 'after setting the default');
  }

  async commit(state: TrialBootState): Promise<void> {
    if (!state.candidateRef) throw new ModuleFailure('commit before arm: no candidate entry');
    const entry = (await this.gather()).entries.find((e) => e.id === state.candidateRef);
    if (!entry)
      throw new ModuleFailure(`the candidate entry ${state.candidateRef} is gone from ${BLS_DIR} on ${this.conn.host}`);
    await this.removeOurs();
    await this.setDefault(entry);
  }

  async release(state: TrialBootState): Promise<{ defaultRef: string; note?: string }> {
    const facts = await this.gather();
    // Decide before the frozen entry goes: the kernel's own entry must boot it with the known-good args.
    const wanted = comparableArgs(state.knownGoodArgs);
    const entry = blsEntryForRelease(facts.entries, state.knownGoodRelease);
    if (!entry || comparableArgs(argsOf(entry.fields.options ?? '')) !== wanted) {
      throw new ModuleFailure(
        `after the undo, no entry in ${BLS_DIR} on ${this.conn.host} boots ${state.knownGoodRelease} with the known-good args (${wanted}); the frozen entry stays the default`,
      );
    }
    await this.removeOurs();
    await this.setDefault(entry);
    const other = state.candidateRelease;
    if (!other || other === state.knownGoodRelease || !blsEntryForRelease(facts.entries, other))
      return { defaultRef: entry.id };
    return {
      defaultRef: entry.id,
      note: `default pinned to ${state.knownGoodRelease}: ${state.candidateRelease} is still installed and is not the known-good one`,
    };
  }
}

/** The BLS driver in the trial-boot registry: GRUB building its menu from /boot/loader/entries. */
export const blsTrialBoot: TrialBootDefinition = {
  loader: 'grub-bls',
  stacks: ['grub-bls'],
  create: (conn, hr, opts) => new BlsTrialBoot(conn, hr, opts),
};
