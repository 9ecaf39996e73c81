/**
 * The GRUB trial boot (the recipe proven on the lab VMs): the running kernel and initrd are copied to
 * /boot/rollgate/ (verified by sha256), a frozen entry boots them with the running args and becomes the saved default; after the
 * change, a one-shot entry (the candidate + panic=N) is armed with grub-reboot. Both entries live in
 * /boot/grub/rollgate.cfg, sourced at boot by a small /etc/grub.d hook, so arming needs no extra update-grub.
 */
import type { Connection } from '../connection/connection.js';
import { sh } from '../connection/shell-quote.js';
import { findTools, runChecked, toolCommand, type HostRoot } from '../modules/host-root.js';
import { copyRemoteFile, missingDirs, readRemoteFiles, toBackup, writeRemoteFile } from '../modules/host-files.js';
import { ModuleFailure, type UndoRecord } from '../modules/module.js';
import { ROLLOUT_KNOWN_GOOD_ENTRY } from '../modules/kernel/boot-default.js';
import {
  bootArgs,
  comparableArgs,
  copyPathFor,
  entryForRelease,
  firstNormalEntry,
  kernelRelease,
  parseGrubMenu,
  renderEntry,
} from '../modules/boot/grub-menu.js';
import {
  GRUB_TOOLS,
  evaluateGrubPreflight,
  grubFactsScript,
  parseGrubFacts,
  pickGrubTools,
  type GrubFacts,
  type GrubToolPaths,
} from './grub-preflight.js';
import type { PreflightResult, TrialBootDefinition, TrialBootDriver, TrialBootState } from './trial-boot.js';

export const HOOK_PATH = '/etc/grub.d/06_rollgate';
/** The saved default while a rollout holds the host; kernel_package leaves such a default to the rollout. */
export const KNOWN_GOOD_ID = ROLLOUT_KNOWN_GOOD_ENTRY;
export const TRIAL_ID = 'rollgate-trial';

/** The /etc/grub.d hook: makes GRUB read rollgate.cfg at boot, the way 41_custom reads custom.cfg. */
export const HOOK_SCRIPT = [
  '#!/bin/sh',
  '# Written by rollgate for a staged change; removed when the change is committed or rolled back.',
  '# It makes GRUB read the known-good and trial entries from rollgate.cfg beside grub.cfg at boot.',
  "cat <<'ROLLGATE'",
  'if [ -f ${config_directory}/rollgate.cfg ]; then',
  '  source ${config_directory}/rollgate.cfg',
  'elif [ -z "${config_directory}" -a -f $prefix/rollgate.cfg ]; then',
  '  source $prefix/rollgate.cfg',
  'fi',
  'ROLLGATE',
  '',
].join('\n');

export interface GrubTrialOptions {
  /** Budget for update-grub, in milliseconds. Default 10 minutes (it takes 26-62 s under TCG). */
  mkconfigTimeoutMs?: number;
  resuming?: boolean;
}

const argsOf = (s: string) => s.split(/\s+/).filter((a) => a !== '');

export class GrubTrialBoot implements TrialBootDriver {
  readonly loader = 'grub';
  private tools: GrubToolPaths = {};
  private facts: GrubFacts | undefined;

  constructor(
    private readonly conn: Connection,
    private readonly hr: HostRoot,
    private readonly opts: GrubTrialOptions = {},
  ) {}

  private async gather(): Promise<GrubFacts> {
    this.tools = pickGrubTools(await findTools(this.conn, this.hr, Object.values(GRUB_TOOLS).flat()));
    const r = await this.conn.exec(grubFactsScript(this.hr, this.tools));
    this.facts = parseGrubFacts(r.stdout);
    return this.facts;
  }

  async preflight(): Promise<PreflightResult> {
    return evaluateGrubPreflight(await this.gather(), this.tools, { resuming: this.opts.resuming });
  }

  private grubDir(): string {
    return this.facts?.values.grubdir || '/boot/grub';
  }
  private tool(role: keyof GrubToolPaths): string {
    const t = this.tools[role];
    if (!t) throw new ModuleFailure(`${GRUB_TOOLS[role].join(' / ')} not found on ${this.conn.host}`);
    return t;
  }
  private bootDirArg(): string {
    return `--boot-directory=${this.hr.path('/boot')}`;
  }
  private mkconfigCommandText(): string {
    const mk = this.tool('mkconfig');
    return (
      /update-grub$/.test(mk)
        ? toolCommand(this.hr, mk)
        : toolCommand(this.hr, mk, ['-o', `${this.grubDir()}/grub.cfg`])
    ).text;
  }
  private async mkconfig(): Promise<void> {
    await runChecked(
      this.conn,
      this.mkconfigCommandText(),
      'regenerating grub.cfg',
      this.opts.mkconfigTimeoutMs ?? 600_000,
    );
  }

  private async readCfg(): Promise<string> {
    const [cfg] = await readRemoteFiles(this.conn, [this.hr.path(`${this.grubDir()}/grub.cfg`)]);
    if (!cfg?.exists) throw new ModuleFailure(`${this.grubDir()}/grub.cfg is missing on ${this.conn.host}`);
    return cfg.content.toString('utf8');
  }

  /** saved_entry and next_entry as grub-editenv lists them. */
  async readEnv(): Promise<Record<string, string>> {
    if (!this.facts) await this.gather();
    const out = await runChecked(
      this.conn,
      toolCommand(this.hr, this.tool('editenv'), [this.hr.path(`${this.grubDir()}/grubenv`), 'list']),
      'grub-editenv list',
    );
    const pairs = out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
    return Object.fromEntries(pairs) as Record<string, string>;
  }

  private rollgateCfg(entries: string[]): string {
    return `# Written by rollgate: the known-good entry (saved default) and, while armed, the one-shot trial.\n${entries.join('')}`;
  }

  async prepare(recordUndo: (undo: UndoRecord) => void): Promise<TrialBootState> {
    const pf = evaluateGrubPreflight(this.facts ?? (await this.gather()), this.tools, { resuming: this.opts.resuming });
    if (!pf.ok)
      throw new ModuleFailure(
        `trial boot impossible on ${this.conn.host}: ${pf.problems.map((p) => p.message).join('; ')}`,
      );
    const facts = this.facts as GrubFacts;
    const release = facts.values.release as string;
    const source = entryForRelease(parseGrubMenu(facts.grubCfg), release);
    if (!source?.kernel) throw new ModuleFailure(`no entry for ${release} in grub.cfg`);
    const hostOf = (grubPath: string) => (grubPath.startsWith('/boot/') ? grubPath : `/boot${grubPath}`);
    const files = [source.kernel, ...source.initrd].map((g) => ({ host: hostOf(g), copyHost: hostOf(copyPathFor(g)) }));
    const args = bootArgs(facts.values.cmdline ?? '');
    const frozen = renderEntry(source, {
      id: KNOWN_GOOD_ID,
      title: `rollgate known-good (${release})`,
      kernel: copyPathFor(source.kernel),
      initrd: source.initrd.map((p) => copyPathFor(p)),
      args,
    });
    const dir = this.grubDir();
    const touched = [HOOK_PATH, `${dir}/rollgate.cfg`, `${dir}/grubenv`, ...files.map((f) => f.copyHost)].map((p) =>
      this.hr.path(p),
    );
    const before = await readRemoteFiles(this.conn, touched);
    const createdDirs = await missingDirs(this.conn, this.hr.path('/boot/rollgate'));
    recordUndo({
      files: before.map(toBackup),
      createdDirs,
      rebuild: [this.mkconfigCommandText()],
      extra: { trialBoot: 'grub-prepare' },
    });

    await runChecked(this.conn, sh`mkdir -p ${this.hr.path('/boot/rollgate')}`, 'mkdir /boot/rollgate');
    // Verified against the source (sha256) and fsynced: the frozen entry boots these bytes when all else fails.
    for (const f of files) await copyRemoteFile(this.conn, this.hr.path(f.host), this.hr.path(f.copyHost));
    await writeRemoteFile(this.conn, this.hr.path(`${dir}/rollgate.cfg`), this.rollgateCfg([frozen]));
    await writeRemoteFile(this.conn, this.hr.path(HOOK_PATH), HOOK_SCRIPT, { mode: 0o755, uid: 0, gid: 0 });
    await this.mkconfig();
    if (!(await this.readCfg()).includes('rollgate.cfg')) {
      throw new ModuleFailure(
        `grub.cfg on ${this.conn.host} does not source rollgate.cfg after update-grub (is ${HOOK_PATH} executable?)`,
      );
    }
    await this.setDefault(KNOWN_GOOD_ID);
    const bootImagePrefix = copyPathFor(source.kernel).replace(/[^/]+$/, '');
    return {
      loader: 'grub',
      knownGoodRelease: release,
      knownGoodArgs: args,
      knownGoodRef: KNOWN_GOOD_ID,
      copiesDir: '/boot/rollgate/',
      bootImagePrefix,
      frozenEntry: frozen,
    };
  }

  async arm(state: TrialBootState, candidate: { release?: string; panicSec: number }): Promise<TrialBootState> {
    if (!this.facts) await this.gather();
    const entries = parseGrubMenu(await this.readCfg());
    // No kernel named: the change keeps the running kernel, so the trial boots that one with the new args, never
    // whichever kernel update-grub put first (a newer one merely installed would be a kernel change nobody asked for).
    const wanted = candidate.release ?? state.knownGoodRelease;
    const target = wanted ? entryForRelease(entries, wanted) : firstNormalEntry(entries);
    if (!target?.kernel)
      throw new ModuleFailure(
        `no boot entry for the candidate ${wanted || '(first entry)'} in grub.cfg on ${this.conn.host}`,
      );
    const trialArgs = [...argsOf(target.args).filter((a) => !a.startsWith('panic=')), `panic=${candidate.panicSec}`];
    const release = kernelRelease(target.kernel) ?? '';
    const trial = renderEntry(target, {
      id: TRIAL_ID,
      title: `rollgate trial (${release})`,
      kernel: target.kernel,
      initrd: target.initrd,
      args: trialArgs,
    });
    await writeRemoteFile(
      this.conn,
      this.hr.path(`${this.grubDir()}/rollgate.cfg`),
      this.rollgateCfg([state.frozenEntry ?? '', trial]),
    );
    await runChecked(
      this.conn,
      toolCommand(this.hr, this.tool('reboot'), [this.bootDirArg(), TRIAL_ID]),
      'grub-reboot',
    );
    await runChecked(this.conn, sh`sync`, 'sync');
    const env = await this.readEnv();
    if (env.next_entry !== TRIAL_ID || env.saved_entry !== KNOWN_GOOD_ID) {
      throw new ModuleFailure(
        `grubenv on ${this.conn.host} says next_entry=${env.next_entry} saved_entry=${env.saved_entry} after arming`,
      );
    }
    return { ...state, candidateRef: target.ref, candidateRelease: release, trialRef: TRIAL_ID, trialArgs };
  }

  private async removeOurs(): Promise<void> {
    const paths = [HOOK_PATH, `${this.grubDir()}/rollgate.cfg`].map((p) => this.hr.path(p));
    await runChecked(
      this.conn,
      sh`rm -f -- ${paths} && rm -rf -- ${this.hr.path('/boot/rollgate')}`,
      'removing the known-good copies',
    );
    await this.mkconfig();
  }

  private async setDefault(ref: string): Promise<void> {
    await runChecked(
      this.conn,
      toolCommand(this.hr, this.tool('setDefault'), [this.bootDirArg(), ref]),
      'grub-set-default',
    );
    await runChecked(this.conn, sh`sync`, 'sync');
    const env = await this.readEnv();
    if (env.saved_entry !== ref)
      throw new ModuleFailure(`grubenv on ${this.conn.host} says saved_entry=${env.saved_entry}, expected ${ref}`);
  }

  async commit(state: TrialBootState): Promise<void> {
    if (!state.candidateRef) throw new ModuleFailure('commit before arm: no candidate entry');
    if (!this.facts) await this.gather();
    await this.removeOurs();
    if (!parseGrubMenu(await this.readCfg()).some((e) => e.ref === state.candidateRef)) {
      throw new ModuleFailure(`the candidate entry ${state.candidateRef} is gone from grub.cfg on ${this.conn.host}`);
    }
    await this.setDefault(state.candidateRef);
  }

  async release(state: TrialBootState): Promise<{ defaultRef: string; note?: string }> {
    if (!this.facts) await this.gather();
    // Decide before the frozen entry goes: the regenerated menu must boot the known-good kernel with its args.
    const wanted = comparableArgs(state.knownGoodArgs);
    const entry = entryForRelease(parseGrubMenu(await this.readCfg()), state.knownGoodRelease);
    if (!entry || comparableArgs(argsOf(entry.args)) !== wanted) {
      throw new ModuleFailure(
        `after the undo, grub.cfg on ${this.conn.host} has no entry booting ${state.knownGoodRelease} with the known-good args (${wanted}); the frozen entry stays the default`,
      );
    }
    await this.removeOurs();
    // The verified kernel's own entry: the top-level one would boot whatever kernel is newest after an update-grub.
    const ref = entryForRelease(parseGrubMenu(await this.readCfg()), state.knownGoodRelease)?.ref ?? entry.ref;
    await this.setDefault(ref);
    const first = firstNormalEntry(parseGrubMenu(await this.readCfg()));
    if (!first || kernelRelease(first.kernel) === state.knownGoodRelease) return { defaultRef: ref };
    return {
      defaultRef: ref,
      note: `default pinned to ${state.knownGoodRelease}: a newer kernel is still installed and is not the known-good one`,
    };
  }
}

/** The GRUB classic driver in the trial-boot registry: GRUB-based boot stacks, and hosts where none was found. */
export const grubTrialBoot: TrialBootDefinition = {
  loader: 'grub',
  // grubby and proxmox hosts may boot through GRUB; its preflight refuses the ones that do not (no grub-reboot,
  // no writable grubenv). When no boot stack was detected, its preflight says what is missing.
  stacks: ['grub', 'grubby', 'proxmox', 'undetected'],
  create: (conn, hr, opts) => new GrubTrialBoot(conn, hr, opts),
};
