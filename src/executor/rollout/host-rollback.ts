/**
 * How a host's turn ends when the change does not stand: undo every change of the run from the journal (newest
 * first), boot the known-good entry, verify the host against its pre-change snapshot, and give the normal entry
 * of the known-good kernel back its place as the default. When that cannot be done or does not verify, the host
 * "needs a person", with the evidence (journal, last snapshot, serial log).
 */
import type { Connection } from '../../connection/connection.js';
import type { RolloutHostStatus } from '../../events/events.js';
import type { HostSnapshot } from '../../modules/facts/snapshot.js';
import { applyUndos } from '../../modules/undo.js';
import { trialBootOf } from '../../trial-boot/registry.js';
import { undoEntry } from '../undo-run.js';
import { bootSide, type TrialBootState } from '../../trial-boot/trial-boot.js';
import { bootAndWait } from './boot-control.js';
import { readBootInfo } from '../../modules/boot/reboot-proof.js';
import { serviceStates } from './service-states.js';
import { drainBeforeReboot, guestsAway, startGuestsAgain } from './guests.js';
import type { HostCtx } from './host-context.js';
import type { UndoableStep } from '../../journal/journal-types.js';
import { noExpectations, verificationPassed, verifyBoot } from './verify.js';

export interface HostRunResult {
  status: RolloutHostStatus;
  message: string;
}

export function finish(h: HostCtx, status: RolloutHostStatus, message: string): HostRunResult {
  const { d } = h;
  h.store.save({ phase: status, message });
  d.emit({
    type: 'rollout.host_finished',
    at: Date.now(),
    runId: d.runId,
    host: d.host.name,
    status,
    message,
    ms: Date.now() - h.started,
  });
  return { status, message };
}

export function needsPerson(h: HostCtx, reason: string): HostRunResult {
  const { d } = h;
  const evidence: Record<string, string> = {
    journal: `rollgate show ${d.runId} --host ${d.host.name}`,
    afterwards: `the host keeps its lock; once it is sorted out: rollgate unlock ${d.runId} --host ${d.host.name}`,
  };
  if (d.serialLog) evidence.serialLog = d.serialLog;
  // Guests the rollout drained and has not brought back: the person must know where they are.
  const g = h.store.rec.guests;
  const moved = Object.entries(g?.moved ?? {});
  if (g && (g.stop.length || moved.length))
    evidence.guests = [
      g.stop.length ? `shut down for the reboot (start them when the host is sorted out): ${g.stop.join(', ')}` : '',
      moved.length ? `live-migrated away: ${moved.map(([n, to]) => `${n} -> ${to}`).join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; ');
  const last = d.journal.latestSnapshot(d.runId, d.host.name);
  if (last) evidence.lastSnapshot = `${last.phase} snapshot #${last.id}`;
  d.emit({ type: 'rollout.needs_person', at: Date.now(), runId: d.runId, host: d.host.name, reason, evidence });
  return finish(h, 'needs_person', reason);
}

/**
 * The host stopped answering before its trial boot with changes of the run on it (some, all, or a step half
 * done): its state is unknown. It is reported unreachable but keeps its phase, and with it its lock and cluster
 * slot, so `rollgate resume` takes every change back once it answers (rollout.ts keeps what a mid-change host holds).
 */
export function lostMidChange(h: HostCtx, reason: string): HostRunResult {
  const { d } = h;
  const message = `${reason}; its changes may be in place: it keeps its lock, and once it answers \`rollgate resume ${d.runId}\` takes them back (or \`rollgate undo ${d.runId} --limit ${d.host.name}\`)`;
  h.store.save({ message });
  d.emit({
    type: 'rollout.host_finished',
    at: Date.now(),
    runId: d.runId,
    host: d.host.name,
    status: 'unreachable',
    message,
    ms: Date.now() - h.started,
  });
  return { status: 'unreachable', message };
}

/** The connection to undo over: the current one, or (`lost`) a fresh login; null when the host does not answer. */
async function connForUndo(h: HostCtx, lost: boolean): Promise<Connection | null> {
  const { d } = h;
  if (!lost && d.session.conn) return d.session.conn;
  await d.session.conn?.close().catch(() => undefined);
  d.session.conn = undefined;
  try {
    d.session.conn = await d.open();
    return d.session.conn;
  } catch {
    return null;
  }
}

/** How a turn that ends before any reboot is reported once its changes are undone. */
export interface BeforeBootEnd {
  /** What happened, e.g. `task "x" failed: ...`; the start of every message. */
  why: string;
  status: RolloutHostStatus;
  /** Added after `why` once the undo is done, e.g. `every change undone before any reboot`. */
  undone?: string;
  /** The connection went away (a task found the host unreachable, a command's connection dropped): log in again. */
  lost?: boolean;
  as?: 'rollback' | 'cleanup';
}

/**
 * Take every change of the run back before any reboot, then end the turn. A host that does not answer, before or
 * during the undo, is lost mid-change (resume finishes the undo); an undo that fails on a host that answers needs
 * a person.
 */
export async function undoBeforeBoot(h: HostCtx, end: BeforeBootEnd): Promise<HostRunResult> {
  const conn = await connForUndo(h, end.lost === true);
  if (!conn) return lostMidChange(h, `${end.why}; the host does not answer, so nothing could be undone`);
  try {
    await undoSteps(h, conn, false, end.as);
  } catch (err) {
    const message = (err as Error).message;
    if (!(await connForUndo(h, true)))
      return lostMidChange(h, `${end.why}; the host went away while its changes were being undone (${message})`);
    return needsPerson(h, `${end.why}, and the undo failed: ${message}`);
  }
  // Guests a drain stopped or moved before a trial boot that did not happen come back (no-op when none were).
  await startGuestsAgain(h, conn, { returnAll: true });
  return finish(h, end.status, end.undone ? `${end.why}; ${end.undone}` : end.why);
}

/**
 * Undo the journaled steps of this host (all of them, or all but the frozen known-good entry), each as far as its
 * outcome allows. `cleanup`: the play
 * changed nothing, so putting the rollout's own frozen entry away is reported as a step, not as a rollback.
 */
export async function undoSteps(
  h: HostCtx,
  conn: Connection,
  keepFrozen: boolean,
  as: 'rollback' | 'cleanup' = 'rollback',
): Promise<void> {
  const { d, store } = h;
  // Kept while the host goes back to its known-good entry: the frozen entry, and prepare_boot's GRUB_DEFAULT=saved
  // that makes it the one GRUB boots (undoBootPrep takes it back once the host has settled there).
  const kept = keepFrozen ? [store.rec.prepareStepId, store.rec.bootPrepStepId] : [];
  const steps = d.journal.undoableSteps(d.runId, d.host.name).filter((s) => !kept.includes(s.id));
  if (steps.length === 0) return;
  if (as === 'cleanup') h.step('remove the known-good boot entry (nothing changed)', 'ok');
  else
    d.emit({
      type: 'rollout.rollback',
      at: Date.now(),
      runId: d.runId,
      host: d.host.name,
      action: 'undo',
      reason: `${steps.length} journaled step(s), newest first`,
    });
  await undoAndMark(h, conn, steps, 'undo failed');
  if (keepFrozen) store.save({ undone: true });
}

/** Apply the undo of journaled steps (newest first) and mark them undone; throws `failed: …` when one fails. */
async function undoAndMark(h: HostCtx, conn: Connection, steps: UndoableStep[], failed: string): Promise<void> {
  const report = await applyUndos(conn, steps.map(undoEntry));
  // Reversals of steps that did not finish are not run (they assume the change happened): say which, and why.
  for (const s of report.skipped) h.step(`held back: ${s.command}`, 'skipped', s.reason);
  if (report.failures.length) throw new Error(`${failed}: ${report.failures.join('; ')}`);
  for (const s of steps) h.d.journal.markUndone(s.id, h.d.runId);
}

/** The host runs its known-good entry: undo what is left, verify the old state, release the frozen entry. */
export async function settleOnKnownGood(h: HostCtx, conn: Connection, reason: string): Promise<HostRunResult> {
  const { d, store } = h;
  store.save({ phase: 'rolling_back' });
  if (!store.rec.undone) await undoSteps(h, conn, true);
  await startGuestsAgain(h, conn);
  const post = await d.collect(conn);
  d.journal.addSnapshot(d.runId, d.host.name, 'after-rollback', post);
  const pre = d.journal.latestSnapshot(d.runId, d.host.name, 'pre-change')?.data as HostSnapshot;
  const checks = verifyBoot(
    'known_good',
    pre,
    post,
    store.rec.expectations ?? noExpectations(),
    { pre: store.rec.servicesPre ?? {}, post: await serviceStates(conn, d.settings.verifyServices) },
    {
      wanted: d.settings.verifyWanted,
      away: guestsAway(h),
    },
  );
  const ok = verificationPassed(checks);
  d.emit({
    type: 'rollout.verification',
    at: Date.now(),
    runId: d.runId,
    host: d.host.name,
    against: 'known_good',
    ok,
    checks,
  });
  if (!ok)
    return needsPerson(
      h,
      `rolled back, but the old state does not verify: ${checks
        .filter((c) => !c.ok && c.required)
        .map((c) => c.name)
        .join(', ')}`,
    );
  if (store.rec.trial) {
    d.emit({
      type: 'rollout.rollback',
      at: Date.now(),
      runId: d.runId,
      host: d.host.name,
      action: 'release',
      reason: 'the known-good state verified; its normal entry becomes the default again',
    });
    const rel = await trialBootOf(store.rec.trial, conn, d.hr).release(store.rec.trial);
    if (store.rec.prepareStepId) d.journal.markUndone(store.rec.prepareStepId, d.runId);
    if (rel.note) h.step('release', 'ok', rel.note);
  }
  await undoBootPrep(h, conn);
  await conn.close().catch(() => undefined);
  return finish(h, 'rolled_back', reason);
}

/** Last of a rollback, on the known-good entry: take back what `prepare_boot` changed (GRUB's defaults). */
async function undoBootPrep(h: HostCtx, conn: Connection): Promise<void> {
  const { d, store } = h;
  const steps = d.journal.undoableSteps(d.runId, d.host.name).filter((s) => s.id === store.rec.bootPrepStepId);
  if (steps.length === 0) return;
  await undoAndMark(h, conn, steps, 'undo of the boot loader preparation failed');
  h.step('undo the boot loader preparation (boot_default)', 'ok');
}

/** Undo the change on the host, boot its known-good entry (the saved default), then settle there. */
export async function rollBack(h: HostCtx, conn: Connection, reason: string): Promise<HostRunResult> {
  const { d, store } = h;
  store.save({ phase: 'rolling_back' });
  const trial = store.rec.trial as TrialBootState | undefined;
  if (trial && bootSide(await readBootInfo(conn, d.hr), trial) === 'fallback')
    return settleOnKnownGood(h, conn, reason);
  await undoSteps(h, conn, true);
  try {
    await drainBeforeReboot(h, conn);
  } catch (err) {
    return needsPerson(
      h,
      `${reason}; its guests could not be shut down for the reboot to the known-good entry: ${(err as Error).message}`,
    );
  }
  const back = await bootAndWait(h, 'back to the known-good entry', conn);
  if (back.status === 'timeout')
    return needsPerson(h, `${reason}; the host did not come back on its known-good entry: ${back.lastError}`);
  return settleOnKnownGood(h, back.conn, reason);
}
