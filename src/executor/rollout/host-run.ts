/**
 * One host through a staged change, as a journaled state machine: pre-change snapshot -> preflight -> freeze the
 * known-good boot -> the play's tasks (through the playbook executor; its `reboot` is the trial boot) -> verify
 * against the snapshot and what the play declared -> commit, or roll back by itself (undo + the known-good entry,
 * a power reset when the host stays silent) and verify the old state; "needs a person" when that fails too.
 *
 * The rollout owns the reboot: a play that changed the host without a `reboot` task still gets a trial boot after
 * its last task; a play that changed nothing is not rebooted. The phase is journaled before each step, so
 * `rollgate resume` re-enters here: before the trial boot it takes every change back; after it, it finds where
 * the host booted and goes on (re-running the play on the trial boot, whose tasks are idempotent) or rolls back.
 */
import { DatabaseLostError } from '../../journal/database-lost.js';
import { ConnectionError, type Connection } from '../../connection/connection.js';
import type { RollgateEvent, RolloutHostStatus } from '../../events/events.js';
import { bootDefault } from '../../modules/actions/boot-default.js';
import type { HostSnapshot } from '../../modules/facts/snapshot.js';
import { trialBootFor, trialBootOf } from '../../trial-boot/registry.js';
import { bootSide, type TrialBootState } from '../../trial-boot/trial-boot.js';
import { bootAndWait, bootInfoOrGone } from './boot-control.js';
import { readBootInfo } from '../../modules/boot/reboot-proof.js';
import { serviceStates } from './service-states.js';
import { changedByPlay, expectationsFromSteps, passthroughIdsOf } from './expectations.js';
import { hostCtx, type HostCtx, type HostRunDeps } from './host-context.js';
import { TERMINAL } from './host-record.js';
import {
  finish,
  lostMidChange,
  needsPerson,
  rollBack,
  settleOnKnownGood,
  undoBeforeBoot,
  type HostRunResult,
} from './host-rollback.js';
import { runPlayOnHost } from './play-on-host.js';
import { trialReboot } from './trial-reboot.js';
import { guestRefusal, guestsAway, startGuestsAgain } from './guests.js';
import { verificationPassed, verifyBoot } from './verify.js';
import { desiredStateFrom } from '../../modules/findings/desired.js';

export type { HostRunDeps } from './host-context.js';
export type { HostRunResult } from './host-rollback.js';

/**
 * The rollout was interrupted (SIGINT / SIGTERM, its lease lost) between two steps of this host: the host stays
 * in its journaled phase, and `rollgate resume` takes it from there (or `rollgate undo` takes its changes back).
 */
export interface HostInterrupted {
  status: 'interrupted';
  message: string;
}

export type HostTurn = HostRunResult | HostInterrupted;

/** Whether the rollout must stop before this host's next step, as the result to return if so. */
function interruption(h: HostCtx): HostInterrupted | null {
  const why = h.d.run.stop?.aborted ? String(h.d.run.stop.reason) : null;
  if (!why) return null;
  h.step('interrupted', 'failed', `${why}; stopped in phase ${h.store.rec.phase}`);
  return { status: 'interrupted', message: `${why}; stopped in phase ${h.store.rec.phase}` };
}

const BOOT_PREP = 'prepare the boot loader (boot_default)';

/**
 * `rollout: prepare_boot: true`: make GRUB trial-boot ready with the boot_default module, as a journaled change of
 * the run (its undo recorded before it is applied; the phase becomes `prepared`, so a controller that dies from
 * here on leaves it to resume's undo). Null when the host is ready (changed or already so), else the host's end.
 */
async function prepareBoot(h: HostCtx, conn: Connection): Promise<HostRunResult | null> {
  const { d, store } = h;
  const ctx = { conn, host: d.host.name, vars: d.host.vars, checkMode: false, emit: (e: RollgateEvent) => d.emit(e) };
  h.step(BOOT_PREP, 'started');
  let outcome: Awaited<ReturnType<typeof bootDefault.check>>;
  try {
    outcome = await bootDefault.check(ctx, {});
  } catch (err) {
    const message = (err as Error).message;
    h.step(BOOT_PREP, 'failed', message);
    return finish(
      h,
      err instanceof ConnectionError ? 'unreachable' : 'failed',
      `the boot loader could not be prepared: ${message}`,
    );
  }
  if (outcome.status === 'no_change') {
    h.step(BOOT_PREP, 'ok', outcome.reason);
    return null;
  }
  const stepId = d.journal.beginStep(d.runId, d.host.name, { task: BOOT_PREP, module: 'boot_default', args: {} });
  d.journal.recordUndo(stepId, outcome.undo);
  store.save({ phase: 'prepared', bootPrepStepId: stepId });
  try {
    const done = await bootDefault.apply(ctx, {}, outcome.change);
    d.journal.finishStep(stepId, { status: 'applied', message: done.message });
    h.step(BOOT_PREP, 'ok', done.message);
    return null;
  } catch (err) {
    const message = (err as Error).message;
    d.journal.finishStep(stepId, { status: 'failed', message });
    h.step(BOOT_PREP, 'failed', message);
    return undoBeforeBoot(h, {
      why: `the boot loader could not be prepared: ${message}`,
      status: 'failed',
      undone: 'what it wrote is undone',
      lost: err instanceof ConnectionError,
    });
  }
}

/** Pre-change snapshot, preflight of the one-shot, frozen known-good entry (its undo journaled first). */
async function prepare(h: HostCtx, conn: Connection): Promise<HostRunResult | null> {
  const { d, store } = h;
  h.step('pre-change snapshot', 'started');
  const pre = await d.collect(conn);
  d.journal.addSnapshot(d.runId, d.host.name, 'pre-change', pre);
  const guestsRefused = guestRefusal(h, pre);
  if (guestsRefused) return finish(h, 'failed', guestsRefused);
  const tb = await trialBootFor(conn, d.hr);
  // boot_default prepares GRUB's defaults file; the BLS and systemd-boot drivers set their default themselves.
  if (d.settings.prepareBoot && tb.loader === 'grub') {
    const ended = await prepareBoot(h, conn);
    if (ended) return ended;
  } else if (d.settings.prepareBoot)
    h.step(BOOT_PREP, 'ok', `nothing to prepare: the ${tb.loader} driver sets its own default`);
  const pf = await tb.preflight();
  if (!pf.ok) {
    const why = `preflight refused: ${pf.problems.map((p) => `${p.message} (${p.hint})`).join('; ')}`;
    // What prepare_boot changed does not stay on a host the rollout will not change.
    if (store.rec.bootPrepStepId)
      return undoBeforeBoot(h, { why, status: 'failed', undone: 'the boot loader preparation is undone' });
    return finish(h, 'failed', why);
  }
  h.step('freeze the known-good boot entry', 'started');
  let prepareStepId = 0;
  let trial: TrialBootState;
  try {
    trial = await tb.prepare((undo) => {
      prepareStepId = d.journal.beginStep(d.runId, d.host.name, {
        task: 'freeze the known-good boot entry',
        module: 'rollout.trial_boot',
        args: {},
      });
      d.journal.recordUndo(prepareStepId, undo);
      // From its first write on, what the freeze did is undone by this turn, or by resume if the controller dies.
      store.save({ phase: 'prepared', prepareStepId });
    });
  } catch (err) {
    const message = (err as Error).message;
    h.step('freeze the known-good boot entry', 'failed', message);
    if (!prepareStepId)
      return finish(
        h,
        err instanceof ConnectionError ? 'unreachable' : 'failed',
        `the known-good entry could not be frozen: ${message}`,
      );
    d.journal.finishStep(prepareStepId, { status: 'failed', message });
    return undoBeforeBoot(h, {
      why: `the known-good entry could not be frozen: ${message}`,
      status: 'failed',
      undone: 'what the freeze wrote is undone',
      lost: err instanceof ConnectionError,
    });
  }
  d.journal.finishStep(prepareStepId, { status: 'applied', message: `known-good ${trial.knownGoodRelease}` });
  h.step('freeze the known-good boot entry', 'ok', `${trial.knownGoodRelease} is the saved default`);
  store.save({
    phase: 'prepared',
    trial,
    prepareStepId,
    servicesPre: await serviceStates(conn, d.settings.verifyServices),
  });
  return null;
}

/** The trial boot is up and the play is done: verify, then commit or roll back. */
async function verifyAndCommit(h: HostCtx, conn: Connection): Promise<HostRunResult> {
  const { d, store } = h;
  await startGuestsAgain(h, conn);
  h.step('post-boot snapshot', 'started');
  const post = await d.collect(conn);
  d.journal.addSnapshot(d.runId, d.host.name, 'post-boot', post);
  const expectations = expectationsFromSteps(d.journal.listSteps(d.runId, d.host.name), passthroughIdsOf(d.host.vars));
  store.save({ expectations });
  const pre = d.journal.latestSnapshot(d.runId, d.host.name, 'pre-change')?.data as HostSnapshot;
  const checks = verifyBoot(
    'candidate',
    pre,
    post,
    expectations,
    { pre: store.rec.servicesPre ?? {}, post: await serviceStates(conn, d.settings.verifyServices) },
    {
      wanted: d.settings.verifyWanted,
      away: guestsAway(h),
      desired: desiredStateFrom(d.host.name, d.host.vars).desired,
    },
  );
  const trialState = store.rec.trial as TrialBootState;
  for (const c of (await trialBootOf(trialState, conn, d.hr).trialChecks?.(trialState)) ?? [])
    checks.push((d.settings.verifyWanted ?? []).includes(c.name) ? { ...c, required: false } : c);
  const ok = verificationPassed(checks);
  d.emit({
    type: 'rollout.verification',
    at: Date.now(),
    runId: d.runId,
    host: d.host.name,
    against: 'candidate',
    ok,
    checks,
  });
  if (!ok)
    return rollBack(
      h,
      conn,
      `verification failed (${checks
        .filter((c) => !c.ok && c.required)
        .map((c) => c.name)
        .join(', ')}); rolled back`,
    );
  h.step('commit', 'started');
  const state = store.rec.trial as TrialBootState;
  await trialBootOf(state, conn, d.hr).commit(state);
  if (store.rec.prepareStepId) d.journal.markUndone(store.rec.prepareStepId, d.runId);
  return finish(h, 'changed', 'verified after boot; the new entry is the default');
}

/** After the play (or a resumed trial boot): decide from the phase where the host is and what comes next. */
async function afterPlay(h: HostCtx, play: { ok: boolean; message: string; interrupted?: boolean }): Promise<HostTurn> {
  const { d, store } = h;
  const conn = d.session.conn;
  // Interrupted mid-play: nothing half-proven is rebooted or committed; resume finds the host in its phase.
  if (play.interrupted) return interruption(h) ?? { status: 'interrupted', message: play.message };
  switch (store.rec.phase) {
    case 'applying': {
      const changed = changedByPlay(d.journal.undoableSteps(d.runId, d.host.name));
      // The play lost the host (a task found it unreachable): undo over a fresh login, or leave it to resume.
      const lost = !conn || d.session.state === 'unreachable';
      if (!play.ok || !changed) {
        if (play.ok) return undoBeforeBoot(h, { why: 'nothing to change', status: 'ok', as: 'cleanup' });
        return undoBeforeBoot(h, {
          why: play.message,
          status: changed ? 'rolled_back' : 'failed',
          lost,
          ...(changed ? { undone: 'every change undone before any reboot' } : {}),
        });
      }
      if (!conn) return needsPerson(h, `lost the host before the trial boot: ${play.message}`);
      // The play changed the host but did not reboot it: the rollout proves the change by a trial boot.
      const stop = interruption(h);
      if (stop) return stop;
      const out = await trialReboot(h, conn, 'the play changed the host');
      if (out.side === 'not_back') return needsPerson(h, `not back after the trial boot: ${out.message}`);
      d.session.conn = out.conn;
      return afterPlay(h, { ok: true, message: '' });
    }
    case 'booted':
      if (!conn) return needsPerson(h, `lost the host on its trial boot: ${play.message}`);
      if (!play.ok) return rollBack(h, conn, `${play.message} (on the trial boot); rolled back`);
      return verifyAndCommit(h, conn);
    case 'fell_back':
      return settleOnKnownGood(
        h,
        conn!,
        'the trial boot did not come up; the host fell back to its known-good entry and was rolled back',
      );
    case 'rebooting':
      return needsPerson(h, `not back after the trial boot: ${play.message}`);
    default:
      return needsPerson(h, `unexpected phase ${store.rec.phase} after the play: ${play.message}`);
  }
}

/** Resumed after the trial reboot was asked for: find the host and its boot, then go on. */
async function resumeAfterReboot(h: HostCtx): Promise<HostTurn> {
  const { d, store } = h;
  let conn = d.session.conn ?? null;
  const now = conn ? await bootInfoOrGone(conn, h) : undefined;
  if (conn && !now) {
    // Reached, then the connection went as we looked: the host is going down (the killed controller's reboot
    // landing now). Treated as a silent host: its whole boot timeout before a reset.
    await conn.close().catch(() => undefined);
    conn = null;
    d.session.conn = undefined;
  }
  // Rebooted since the reboot was asked for: a new boot id (a record without one, from before it was saved with
  // the phase, counts only a boot on the trial entry).
  const rebooted =
    now !== undefined &&
    (store.rec.oldBootId
      ? now.bootId !== store.rec.oldBootId
      : !!store.rec.trial && bootSide(now, store.rec.trial as TrialBootState) === 'trial');
  if (!conn || !rebooted) {
    const back = await bootAndWait(h, conn ? 'resumed before the reboot took place' : 'resumed, host silent', conn);
    if (back.status === 'timeout') return needsPerson(h, `not back on resume: ${back.lastError}`);
    conn = back.conn;
  }
  d.session.conn = conn;
  if (store.rec.phase === 'rolling_back') return rollBack(h, conn, 'resumed during a rollback; rolled back');
  const side = bootSide(await readBootInfo(conn, d.hr), store.rec.trial as TrialBootState);
  if (side !== 'trial') {
    store.save({ phase: 'fell_back' });
    return afterPlay(h, { ok: false, message: 'resumed on the known-good entry' });
  }
  store.save({ phase: 'booted' });
  h.alreadyBooted = true;
  return afterPlay(h, await runPlayOnHost(h, conn));
}

async function proceed(h: HostCtx): Promise<HostTurn> {
  const { d, store } = h;
  const phase = store.rec.phase;
  const stop = interruption(h);
  if (stop) return stop;
  if (d.resuming && (phase === 'prepared' || phase === 'applying')) {
    if (!d.session.conn)
      return lostMidChange(h, `stopped in phase ${phase}, before the trial boot, and not answering now`);
    return undoBeforeBoot(h, {
      why: `stopped in phase ${phase}, before the trial boot`,
      status: 'rolled_back',
      undone: 'every change undone',
    });
  }
  if (phase === 'rebooting' || phase === 'booted' || phase === 'fell_back' || phase === 'rolling_back')
    return resumeAfterReboot(h);
  if (phase === 'pending') {
    const refused = await prepare(h, d.session.conn!);
    if (refused) return refused;
    const stopped = interruption(h);
    if (stopped) return stopped;
  }
  store.save({ phase: 'applying' });
  return afterPlay(h, await runPlayOnHost(h, d.session.conn!));
}

export async function runHost(d: HostRunDeps): Promise<HostTurn> {
  const h = hostCtx(d);
  const rec = h.store.rec;
  if (TERMINAL.has(rec.phase)) return { status: rec.phase as RolloutHostStatus, message: rec.message ?? '' };
  try {
    d.session.conn = await d.open();
  } catch (err) {
    // Reached but refused (the machine is locked, or not the one the run changed): never waited for or reset.
    if (err instanceof ConnectionError && err.kind === 'locked')
      return rec.phase === 'pending' ? finish(h, 'failed', err.message) : needsPerson(h, err.message);
    if (rec.phase === 'pending') return finish(h, 'unreachable', (err as Error).message);
    d.session.conn = undefined; // a host mid-change that does not answer: resumeAfterReboot waits and resets
  }
  try {
    return await proceed(h);
  } catch (err) {
    // The journal (or the fleet lock) is gone: nothing more is done on the host; resume takes it from the journal.
    if (err instanceof DatabaseLostError) throw err;
    const message = (err as Error).message;
    const phase = h.store.rec.phase;
    const lost = err instanceof ConnectionError;
    if (phase === 'pending') return finish(h, lost ? 'unreachable' : 'failed', message);
    if (phase === 'prepared' || phase === 'applying') {
      return undoBeforeBoot(h, {
        why: `failed before the trial boot (${message})`,
        status: 'rolled_back',
        undone: 'every change undone',
        lost: lost || !d.session.conn,
      });
    }
    return needsPerson(h, `stopped in phase ${phase}: ${message}`);
  } finally {
    await d.session.conn?.close().catch(() => undefined);
    d.session.conn = undefined;
  }
}
