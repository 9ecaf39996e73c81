/**
 * One host through a staged change, as a journaled state machine: snapshot -> preflight -> freeze the known-good
 * boot -> apply (undo journaled first) -> arm a one-shot trial -> reboot -> wait -> verify -> commit, or roll
 * back by itself (undo + boot the frozen entry, power reset when the host does not come back) and verify the old
 * state; "needs a person" when that fails too. The phase is written before each step, so `resume` re-enters here.
 */
import type { Connection } from '../../connection/connection.js';
import type { RolloutHostStatus, RollgateEvent } from '../../events/events.js';
import type { Journal } from '../../journal/journal.js';
import type { Play } from '../../load/playbook-types.js';
import type { HostSnapshot } from '../../modules/facts/snapshot.js';
import type { HostRoot } from '../../modules/host-root.js';
import { applyUndos } from '../../modules/undo.js';
import type { PowerDriver } from '../../power/driver.js';
import type { RolloutSettings } from '../../strategy/settings.js';
import { GrubTrialBoot } from '../trial-boot/grub-trial.js';
import { bootSide, type TrialBootState } from '../trial-boot/trial-boot.js';
import { applyPlayChanges } from './apply-play.js';
import { readBootInfo, requestReboot, serviceStates, waitForBoot, type WaitOutcome } from './boot-wait.js';
import { verificationPassed, verifyBoot, type Expectations, type ServiceStates } from './verify.js';

export type HostPhase = 'pending' | 'prepared' | 'applied' | 'rebooting' | 'rolling_back' | RolloutHostStatus;

/** What the journal keeps per host between steps (run_hosts.detail, JSON). */
export interface HostRecord {
  phase: HostPhase;
  trial?: TrialBootState;
  prepareStepId?: number;
  oldBootId?: string;
  expectations?: Expectations;
  servicesPre?: ServiceStates;
  /** Change undone already (rollback in progress). */
  undone?: boolean;
  message?: string;
}

export interface HostRunDeps {
  runId: string;
  host: { name: string; vars: Record<string, unknown> };
  play: Play;
  settings: RolloutSettings;
  journal: Journal;
  emit(e: RollgateEvent): void;
  /** A fresh, full SSH login to the host. */
  open(): Promise<Connection>;
  power: PowerDriver | null;
  hr: HostRoot;
  collect(conn: Connection): Promise<HostSnapshot>;
  /** Replaces `systemctl reboot` (throwaway-root tests). */
  rebootCommand?: string;
  pollMs?: number;
  /** Re-entering after the controller stopped (rollgate resume). */
  resuming?: boolean;
  /** Where the serial console of the host is logged, for the evidence of "needs a person". */
  serialLog?: string;
}

export interface HostRunResult {
  status: RolloutHostStatus;
  message: string;
}

const TERMINAL = new Set<HostPhase>(['ok', 'changed', 'failed', 'unreachable', 'rolled_back', 'needs_person']);

export function readRecord(journal: Journal, runId: string, host: string): HostRecord {
  const row = journal.listHosts(runId).find((h) => h.host === host);
  if (!row?.detail) return { phase: 'pending' };
  try {
    return JSON.parse(row.detail) as HostRecord;
  } catch {
    return { phase: 'pending' };
  }
}

export async function runHost(d: HostRunDeps): Promise<HostRunResult> {
  const started = Date.now();
  const host = d.host.name;
  let rec = readRecord(d.journal, d.runId, host);
  const save = (next: Partial<HostRecord>) => {
    rec = { ...rec, ...next };
    d.journal.setHostStatus(d.runId, host, rec.phase, JSON.stringify(rec));
  };
  const step = (name: string, status: 'started' | 'ok' | 'changed' | 'skipped' | 'failed', message?: string) =>
    d.emit({ type: 'rollout.host_step', at: Date.now(), runId: d.runId, host, step: name, status, ...(message ? { message } : {}) });
  const finish = (status: RolloutHostStatus, message: string): HostRunResult => {
    save({ phase: status, message });
    d.emit({ type: 'rollout.host_finished', at: Date.now(), runId: d.runId, host, status, message, ms: Date.now() - started });
    return { status, message };
  };
  const pre = () => d.journal.latestSnapshot(d.runId, host, 'pre-change')?.data as HostSnapshot;
  const bootTimeoutMs = d.settings.bootTimeoutSec * 1000;
  const wait = (oldBootId: string): Promise<WaitOutcome> => waitForBoot(d.open, d.hr, oldBootId, { timeoutMs: bootTimeoutMs, pollMs: d.pollMs });

  const needsPerson = async (reason: string): Promise<HostRunResult> => {
    const evidence: Record<string, string> = { journal: `rollgate show ${d.runId} --host ${host}` };
    if (d.serialLog) evidence.serialLog = d.serialLog;
    const last = d.journal.latestSnapshot(d.runId, host);
    if (last) evidence.lastSnapshot = `${last.phase} snapshot #${last.id}`;
    d.emit({ type: 'rollout.needs_person', at: Date.now(), runId: d.runId, host, reason, evidence });
    return finish('needs_person', reason);
  };

  /** Reboot (or power-reset) and wait; the one-shot is already consumed or armed as the caller needs. */
  const bootAndWait = async (why: string, conn: Connection | null): Promise<WaitOutcome & { reset: boolean }> => {
    const old = conn ? (await readBootInfo(conn, d.hr)).bootId : (rec.oldBootId ?? '');
    save({ oldBootId: old });
    if (conn) {
      step(`reboot (${why})`, 'started');
      await requestReboot(conn, d.rebootCommand);
      await conn.close().catch(() => undefined);
      const back = await wait(old);
      if (back.status === 'back') return { ...back, reset: false };
    }
    if (!d.power) return { status: 'timeout', ms: bootTimeoutMs, lastError: 'no power driver configured (rollgate_power)', reset: false };
    d.emit({ type: 'rollout.rollback', at: Date.now(), runId: d.runId, host, action: 'power_reset', reason: `not back within ${d.settings.bootTimeoutSec} s (${why})` });
    try {
      await d.power.reset();
    } catch (err) {
      return { status: 'timeout', ms: 0, lastError: `power reset through ${d.power.describe} failed: ${(err as Error).message}`, reset: true };
    }
    return { ...(await wait(old)), reset: true };
  };

  /** The host runs the frozen known-good entry: undo the change if not done, verify the old state, release. */
  const settleOnKnownGood = async (conn: Connection, reason: string): Promise<HostRunResult> => {
    const tb = new GrubTrialBoot(conn, d.hr, { resuming: true });
    if (!rec.undone) await undoChanges(conn);
    const post = await d.collect(conn);
    d.journal.addSnapshot(d.runId, host, 'after-rollback', post);
    const checks = verifyBoot('known_good', pre(), post, rec.expectations ?? { argsPresent: [], argsAbsent: [], drivers: {}, passthroughIds: [] }, {
      pre: rec.servicesPre ?? {},
      post: await serviceStates(conn),
    });
    const ok = verificationPassed(checks);
    d.emit({ type: 'rollout.verification', at: Date.now(), runId: d.runId, host, against: 'known_good', ok, checks });
    if (!ok) return needsPerson(`rolled back, but the old state does not verify: ${checks.filter((c) => !c.ok).map((c) => c.name).join(', ')}`);
    if (rec.trial) {
      d.emit({ type: 'rollout.rollback', at: Date.now(), runId: d.runId, host, action: 'release', reason: 'known-good verified' });
      const rel = await tb.release(rec.trial);
      if (rec.prepareStepId) d.journal.markUndone(rec.prepareStepId, d.runId);
      if (rel.note) step('release', 'ok', rel.note);
    }
    await conn.close().catch(() => undefined);
    return finish('rolled_back', reason);
  };

  const undoChanges = async (conn: Connection) => {
    const steps = d.journal.undoableSteps(d.runId, host).filter((s) => s.id !== rec.prepareStepId);
    d.emit({ type: 'rollout.rollback', at: Date.now(), runId: d.runId, host, action: 'undo', reason: `${steps.length} change(s)` });
    const report = await applyUndos(conn, steps.map((s) => s.undo));
    if (report.failures.length) throw new Error(`undo failed: ${report.failures.join('; ')}`);
    for (const s of steps) d.journal.markUndone(s.id, d.runId);
    save({ undone: true });
  };

  /** Before any reboot: take back every change and the frozen entry (nothing half-applied). */
  const undoEverything = async (c: Connection) => {
    const steps = d.journal.undoableSteps(d.runId, host);
    const report = await applyUndos(c, steps.map((s) => s.undo));
    if (report.failures.length) throw new Error(`undo failed: ${report.failures.join('; ')}`);
    for (const s of steps) d.journal.markUndone(s.id, d.runId);
  };

  if (TERMINAL.has(rec.phase)) return { status: rec.phase as RolloutHostStatus, message: rec.message ?? '' };
  let conn: Connection;
  try {
    conn = await d.open();
  } catch (err) {
    if (rec.phase === 'pending') return finish('unreachable', (err as Error).message);
    conn = null as unknown as Connection; // handled below: a host mid-change that does not answer
  }
  try {
    if (d.resuming && conn && (rec.phase === 'prepared' || rec.phase === 'applied')) {
      // Interrupted before the trial boot: nothing was booted, so taking everything back is safe and simple.
      await undoEverything(conn);
      return finish('rolled_back', `interrupted in phase ${rec.phase}, before the trial boot; every change undone`);
    }
    if (rec.phase === 'pending') {
      step('snapshot', 'started');
      const snap = await d.collect(conn);
      d.journal.addSnapshot(d.runId, host, 'pre-change', snap);
      const tb = new GrubTrialBoot(conn, d.hr);
      const pf = await tb.preflight();
      if (!pf.ok) return finish('failed', `preflight refused: ${pf.problems.map((p) => `${p.message} (${p.hint})`).join('; ')}`);
      step('prepare trial boot', 'started');
      let prepareStepId = 0;
      const trial = await tb.prepare((undo) => {
        prepareStepId = d.journal.beginStep(d.runId, host, { task: 'freeze the known-good boot entry', module: 'rollout.trial_boot', args: {} });
        d.journal.recordUndo(prepareStepId, undo);
      });
      d.journal.finishStep(prepareStepId, { status: 'applied', message: `known-good ${trial.knownGoodRelease}` });
      save({ phase: 'prepared', trial, prepareStepId, servicesPre: await serviceStates(conn) });
    }
    if (rec.phase === 'prepared') {
      const applied = await applyPlayChanges(conn, d.host, d.play, d.journal, d.runId, d.emit);
      if (!applied.changed) {
        await undoEverything(conn);
        return finish('ok', 'nothing to change');
      }
      const tb = new GrubTrialBoot(conn, d.hr, { resuming: true });
      const trial = await tb.arm(rec.trial as TrialBootState, { release: applied.expectations.kernelRelease, panicSec: d.settings.panicTimeoutSec });
      save({ phase: 'applied', trial, expectations: { ...applied.expectations, passthroughIds: passthroughIdsOf(d.host.vars) } });
    }
    if (rec.phase === 'applied') {
      save({ phase: 'rebooting' });
      const back = await bootAndWait('trial boot', conn);
      if (back.status === 'timeout') return needsPerson(`not back after the trial boot: ${back.lastError}`);
      conn = back.conn;
    } else if (rec.phase === 'rebooting' || rec.phase === 'rolling_back') {
      // Resumed: where is the host now?
      if (!conn) {
        const back = await bootAndWait('resumed, host silent', null);
        if (back.status === 'timeout') return needsPerson(`not reachable on resume: ${back.lastError}`);
        conn = back.conn;
      } else if ((await readBootInfo(conn, d.hr)).bootId === rec.oldBootId) {
        const back = await bootAndWait('resumed before the reboot took place', conn);
        if (back.status === 'timeout') return needsPerson(`not back after the reboot: ${back.lastError}`);
        conn = back.conn;
      }
    }
    const side = bootSide((await readBootInfo(conn, d.hr)).cmdline, rec.trial as TrialBootState);
    if (rec.phase === 'rolling_back' || side !== 'trial') {
      if (side === 'trial') {
        // A rollback was under way while the host still ran the candidate: boot the frozen entry first.
        const back = await bootAndWait('back to the known-good entry', conn);
        if (back.status === 'timeout') return needsPerson(`not back on the known-good entry: ${back.lastError}`);
        conn = back.conn;
      }
      save({ phase: 'rolling_back' });
      return await settleOnKnownGood(conn, side === 'fallback' ? 'the trial boot did not come up; the host fell back to its known-good entry' : 'rolled back');
    }
    const post = await d.collect(conn);
    d.journal.addSnapshot(d.runId, host, 'post-boot', post);
    const checks = verifyBoot('candidate', pre(), post, rec.expectations as Expectations, { pre: rec.servicesPre ?? {}, post: await serviceStates(conn) });
    const ok = verificationPassed(checks);
    d.emit({ type: 'rollout.verification', at: Date.now(), runId: d.runId, host, against: 'candidate', ok, checks });
    if (ok) {
      await new GrubTrialBoot(conn, d.hr, { resuming: true }).commit(rec.trial as TrialBootState);
      if (rec.prepareStepId) d.journal.markUndone(rec.prepareStepId, d.runId);
      await conn.close().catch(() => undefined);
      return finish('changed', 'verified after boot; the new entry is the default');
    }
    save({ phase: 'rolling_back' });
    await undoChanges(conn);
    const back = await bootAndWait('back to the known-good entry', conn);
    if (back.status === 'timeout') return needsPerson(`verification failed and the host did not come back on its known-good entry: ${back.lastError}`);
    return await settleOnKnownGood(back.conn, `verification failed (${checks.filter((c) => !c.ok && c.required).map((c) => c.name).join(', ')}); rolled back`);
  } catch (err) {
    const message = (err as Error).message;
    if (rec.phase === 'pending') return finish('failed', message);
    if ((rec.phase === 'prepared' || rec.phase === 'applied') && conn) {
      try {
        await undoEverything(conn);
        return finish('rolled_back', `failed before the trial boot (${message}); every change undone`);
      } catch (undoErr) {
        return needsPerson(`failed before the trial boot (${message}) and the undo failed: ${(undoErr as Error).message}`);
      }
    }
    return needsPerson(`stopped in phase ${rec.phase}: ${message}`);
  }
}

function passthroughIdsOf(vars: Record<string, unknown>): string[] {
  const v = vars.passthrough_devices;
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : [];
}
