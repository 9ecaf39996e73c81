/**
 * For e2e scenarios that bring lab VMs of their own beside the shared lab (the systemd-boot and guests labs): their
 * settings (the shared lab's state dir + a suffix), whether the shared lab runs, a root command on one of their VMs,
 * their faults, their rollouts and their steps' budget.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connectLabHost } from '../../src/lab/lab.js';
import type { ImageManifest } from '../../src/lab/image.js';
import { labSettings, type LabSettings } from '../../src/lab/settings.js';
import { hostNames, labPaths, readLabState } from '../../src/lab/state.js';
import { vmPid } from '../../src/lab/vm.js';
import { budgetNote, type Claim } from './lab-claims.js';
import { e2eSettings, ensureLab } from './lab-harness.js';
import { cli, ROOT, storyOf } from './rollout-support.js';

/** Settings of a lab of its own: ROLLGATE_LAB_STATE (default the e2e lab's) + `-SUFFIX`. */
export function ownLabSettings(suffix: string): LabSettings {
  return labSettings({ ...process.env, ROLLGATE_LAB_STATE: `${e2eSettings().stateDir}-${suffix}` });
}

/** Whether any VM of the shared e2e lab is running. */
export function sharedLabUp(): boolean {
  const state = readLabState(labPaths(e2eSettings().stateDir));
  return !!state && hostNames(state).some((h) => vmPid(state.hosts[h]!) !== undefined);
}

/** A root command on a VM of an own lab; its trimmed stdout, or an error naming the host, command and output. */
export async function onOwnVm(settings: LabSettings, host: string, script: string): Promise<string> {
  const conn = await connectLabHost(settings, host);
  try {
    const r = await conn.exec(script, { timeoutMs: 300_000 });
    if (r.exitCode !== 0) throw new Error(`${host}: ${script}: exit ${r.exitCode}: ${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  } finally {
    await conn.close();
  }
}

/** `rollgate lab fault HOST ARGS...` on an own lab (arm a kind, or `clear`). */
export function ownLabFault(settings: LabSettings, host: string, ...args: string[]): void {
  execFileSync(process.execPath, [join(ROOT, 'bin', 'rollgate.js'), 'lab', 'fault', host, ...args], {
    env: { ...process.env, ROLLGATE_LAB_STATE: settings.stateDir },
    timeout: 20 * 60_000,
  });
}

/** The image manifest of an own lab's VMs (its kernel and the update kernel its repository holds). */
export function ownLabManifest(settings: LabSettings): ImageManifest {
  const state = readLabState(labPaths(settings.stateDir));
  if (!state) throw new Error(`no lab state in ${settings.stateDir}`);
  return JSON.parse(readFileSync(join(dirname(state.imageBase), 'manifest.json'), 'utf8')) as ImageManifest;
}

export const elapsed = (t: number) => `${((Date.now() - t) / 1000).toFixed(0)} s`;

/**
 * SSH handshake budget of the rollouts, s: a run at load average 10-13 (a CI run and other VMs beside it) saw the
 * first handshake of a commit rollout miss the default 15 s on a VM that had just answered lab up's login; the
 * guests VMs (two nested QEMUs each) answer slower still under that load.
 */
export const CONNECT_TIMEOUT_S = '120';

/**
 * `rollgate rollout PLAYBOOK -i INVENTORY ...` on an own lab, its figure logged under the scenario's label. A
 * rollout still running a minute after its last event (`rollout.finished`) is stopped, so a rollout that does not
 * exit fails its assertions instead of hanging the e2e run (seen once after a needs_person, 2026-12-07).
 */
export async function ownLabRollout(
  label: string,
  inventory: string,
  what: string,
  playbook: string,
  ...extra: string[]
) {
  const t = Date.now();
  const run = cli([
    'rollout',
    playbook,
    '-i',
    inventory,
    '--boot-timeout',
    '1200',
    '--connect-timeout',
    CONNECT_TIMEOUT_S,
    ...extra,
  ]);
  void run
    .until((e) => e.type === 'rollout.finished', 3_600_000)
    .then(() => setTimeout(() => run.child.kill('SIGTERM'), 60_000).unref())
    .catch(() => undefined);
  const out = await run.done;
  console.info(`[lab figures] ${label}: ${what} ${elapsed(t)}`);
  return { ...out, story: storyOf(out.events, run.stderr()) };
}

/** Whether a later step still fits in the e2e budget; when it does not, says so loudly (the steps before it ran). */
export function stepFits(label: string, step: string, minutes: number): boolean {
  const note = budgetNote(`${label}: ${step}`, minutes);
  if (note) console.warn(`[lab budget] ${note}`);
  return !note;
}

/** Whether a scenario's estimate no longer fits the e2e budget; if so it says so loudly and skips the test. */
export function overBudget(label: string, estimateMin: number, skip: (note: string) => void): boolean {
  const note = budgetNote(label, estimateMin);
  if (!note) return false;
  console.warn(`[lab budget] ${note}`);
  skip(note);
  return true;
}

/**
 * The start of an own-lab scenario that waits for its turn in the shared lab's claim queue (at PRIORITY, holding one
 * shared host read-only while it runs) when it runs beside the shared lab, so the scenarios of that queue with a
 * higher priority take their hosts and start first; alone, at once. Skipped, loudly, when its estimate does not fit
 * the e2e budget (the claim checks it again when served). Undefined: skipped; release the claim when done.
 */
export async function claimTurn(
  label: string,
  estimateMin: number,
  priority: number,
  skip: (note: string) => void,
): Promise<{ release(): void } | undefined> {
  if (overBudget(label, estimateMin, skip)) return undefined;
  if (!process.env.ROLLGATE_E2E_END && !sharedLabUp()) return { release: () => undefined };
  const shared = await ensureLab();
  const claim: Claim = await shared.claim({ any: 1, readOnly: true, priority, label, estimateMin, skip });
  return claim;
}

/** One own lab (state dir: the e2e lab's + `-SUFFIX`, inventory .local-fleet/e2e-SUFFIX/lab.yml) under a label. */
export function ownLab(label: string, suffix: string) {
  const inventory = join(ROOT, '.local-fleet', `e2e-${suffix}`, 'lab.yml');
  const settings = () => ownLabSettings(suffix);
  return {
    inventory,
    settings,
    onVm: (host: string, script: string) => onOwnVm(settings(), host, script),
    fault: (host: string, ...args: string[]) => ownLabFault(settings(), host, ...args),
    manifest: () => ownLabManifest(settings()),
    rollout: (what: string, playbook: string, ...extra: string[]) =>
      ownLabRollout(label, inventory, what, playbook, ...extra),
    stepFits: (step: string, minutes: number) => stepFits(label, step, minutes),
    overBudget: (estimateMin: number, skip: (note: string) => void) => overBudget(label, estimateMin, skip),
    claimTurn: (estimateMin: number, priority: number, skip: (note: string) => void) =>
      claimTurn(label, estimateMin, priority, skip),
  };
}
