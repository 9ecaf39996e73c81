/**
 * The second Ctrl-C (or SIGTERM): stop now, without waiting for the step in flight. Every run this process holds
 * is marked `interrupted`; a step still `pending` stays pending (undo restores it from its record) and says so;
 * hosts with nothing in flight are unlocked, while a host with a step in flight, or a rollout host mid-change,
 * keeps its lock for `rollgate resume` / `undo` / `unlock`; the leases go. Synchronous journal writes.
 */
import type { FleetLock } from '../journal/fleet-lock.js';
import type { Journal } from '../journal/journal.js';
import { readRecord, TERMINAL } from './rollout/host-record.js';

export interface ForcedRun {
  runId: string;
  kind: string;
  /** Hosts that keep their lock: a step was in flight, or (rollout) they were mid-change. */
  kept: string[];
}

/** `lock`: the fleet lock the command's runs hold their hosts in (the composition root's). */
export async function forceStop(journal: Journal, lock: FleetLock, reason: string): Promise<ForcedRun[]> {
  const forced: ForcedRun[] = [];
  for (const lease of journal.leases().ownedHere()) {
    const run = journal.getRun(lease.runId);
    if (!run) continue;
    const steps = journal.listSteps(run.id);
    const inFlight = new Set(steps.filter((s) => s.status === 'pending').map((s) => s.host));
    journal.notePendingSteps(
      run.id,
      `interrupted (${reason}) while this step ran: it may be partly applied; undo restores it from its record`,
    );
    const held = [...new Set((await lock.listHostLocks()).filter((l) => l.runId === run.id).map((l) => l.host))];
    const midChange = (host: string) =>
      run.kind === 'rollout' &&
      !TERMINAL.has(readRecord(journal, run.id, host).phase) &&
      readRecord(journal, run.id, host).phase !== 'pending';
    const kept = held.filter((h) => inFlight.has(h) || midChange(h));
    await lock.releaseHostLocks(
      run.id,
      held.filter((h) => !kept.includes(h)),
    );
    journal.finishRun(run.id, 'interrupted');
    journal.leases().release(lease);
    forced.push({ runId: run.id, kind: run.kind, kept });
  }
  return forced;
}
