/**
 * Is a run's controller still working on it, and when a lock is in the way, what gets it out of the way: a live
 * controller is waited for or stopped; a dead one's run is resumed, undone or unlocked as its kind and state
 * allow. Read from the journal alone (runs, leases, locks).
 */
import type { LockConflict } from './fleet-lock.js';
import type { Journal } from './journal.js';
import type { RunRow } from './journal-types.js';
import { controllerAlive, leaseLife } from './run-lease.js';

export interface RunLife {
  /** 'unknown': marked running by a controller on another machine that holds no lease (an older rollgate). */
  alive: boolean | 'unknown';
  why: string;
}

/** Whether the controller of `run` may still be working on it. */
export function runLife(journal: Journal, run: RunRow): RunLife {
  const lease = journal.leases().read(run.id);
  if (lease) return leaseLife(lease);
  if (run.status !== 'running') return { alive: false, why: `it is ${run.status.replace('_', ' ')}` };
  const pid = controllerAlive(run.controller);
  if (pid === 'unknown')
    return { alive: 'unknown', why: `it is marked running by controller ${run.controller} on another machine` };
  return pid
    ? { alive: true, why: `its controller ${run.controller} is alive` }
    : { alive: false, why: `its controller ${run.controller} has exited` };
}

/** Rollout host phases between the first change and the end of the host's turn (executor/rollout/host-record.ts). */
const MID_CHANGE = new Set(['prepared', 'applying', 'rebooting', 'booted', 'fell_back', 'rolling_back']);

const pidOf = (controller: string) => controller.slice(controller.lastIndexOf(':') + 1);

/**
 * What gets `host` out of the way of run `runId`'s lock, as one sentence. `shared`: the lock is one other
 * controllers share (FleetLock.shared), so a run this journal does not know may be another controller's.
 */
export function wayOut(journal: Journal, runId: string, host: string, holder?: string, shared = false): string {
  const run = journal.getRun(runId);
  if (!run)
    return holder && shared
      ? `run ${runId} is not in this journal: it belongs to the controller ${holder}, which shares the fleet lock, and may be running there; ask its operator, or once you know it is gone \`rollgate unlock ${runId} --host ${host}\` releases its lock`
      : `run ${runId} is not in this journal: \`rollgate unlock ${runId} --host ${host}\` releases its lock`;
  const life = runLife(journal, run);
  if (life.alive === true) {
    const owner = journal.leases().read(runId)?.owner ?? run.controller;
    return `run ${runId} is in progress (${life.why}): wait for it, or stop it (Ctrl-C, or kill -TERM ${pidOf(owner)} on ${owner.slice(0, owner.lastIndexOf(':'))})`;
  }
  if (life.alive === 'unknown')
    return `run ${runId} ${life.why}: if that controller is dead, \`rollgate unlock ${runId} --host ${host} --force\``;
  const unlock = `\`rollgate unlock ${runId} --host ${host}\` releases the lock once you know ${host} is fine`;
  if (run.status === 'needs_person')
    return `run ${runId} left ${host} needing a person: look at it (\`rollgate show ${runId} --host ${host}\`), then ${unlock}`;
  if (run.status === 'running' || run.status === 'interrupted') {
    const why = run.status === 'interrupted' ? 'was interrupted' : `stopped (${life.why})`;
    if (run.kind === 'rollout')
      return `run ${runId} ${why}: \`rollgate resume ${runId}\` finishes it or rolls it back, \`rollgate undo ${runId}\` takes its changes back, or ${unlock}`;
    if (run.kind === 'undo' && run.parentRunId)
      return `undo run ${runId} ${why}: \`rollgate undo ${run.parentRunId}\` runs the undo again, or ${unlock}`;
    return `run ${runId} ${why}: \`rollgate undo ${runId}\` takes its changes back, or ${unlock}`;
  }
  // A rollout host lost mid-change keeps its phase (and the lock) for resume, which takes its changes back.
  const phase = journal.listHosts(runId).find((h) => h.host === host)?.status ?? '';
  if (run.kind === 'rollout' && MID_CHANGE.has(phase)) {
    return `run ${runId} lost ${host} mid-change (phase ${phase}): once it answers, \`rollgate resume ${runId}\` takes its changes back (or \`rollgate undo ${runId} --limit ${host}\`), or ${unlock}`;
  }
  return `run ${runId} is ${run.status.replace('_', ' ')} but still holds the lock: ${unlock}`;
}

/** One line per conflict: which machine, held by whom, and the way out (`shared`: as for wayOut). */
export function describeConflicts(journal: Journal, conflicts: readonly LockConflict[], shared = false): string {
  return conflicts
    .map((c) => {
      const machine = c.machine.replace(/^(addr|key|name):/, '');
      if (c.sameRun)
        return `${c.host} is the same machine (${machine}) as ${c.held.host} in this run: a run drives each machine once; list it once in the inventory or leave one name out with --limit`;
      const as = c.held.host === c.host ? '' : ` as ${c.held.host}`;
      return `${c.host} (${machine}) is locked by run ${c.held.runId}${as}: ${wayOut(journal, c.held.runId, c.held.host, c.held.holder, shared)}`;
    })
    .join('\n');
}
