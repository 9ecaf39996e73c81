/**
 * Undo a journaled run on some of its hosts: every step with an undo record that is not undone yet (applied,
 * failed, or still `pending` because the controller died mid-apply), newest first, files first then one pass of
 * the undo commands each step's outcome allows (reversals only for applied steps; modules/undo.ts). The undo is
 * itself a run in the journal,
 * holds the fleet lock on its hosts, and marks the steps it reverted; a host where anything failed keeps its
 * steps undoable so the undo can be run again.
 */
import type { SshTarget } from '../connection/target.js';
import type { EventBus } from '../events/events.js';
import type { FleetLock } from '../journal/fleet-lock.js';
import type { Journal } from '../journal/journal.js';
import type { RunRow, UndoableStep } from '../journal/journal-types.js';
import { describeConflicts, runLife } from '../journal/run-life.js';
import { thisController } from '../journal/run-lease.js';
import { applyUndos, type UndoEntry, type UndoReport } from '../modules/undo.js';
import { runOnFleet, type FleetOptions } from './fleet.js';
import { addressSubjects, claimingOpener } from './machine-identity.js';
import { beginNewRun } from './run-record.js';
import { openSsh } from './connections.js';

/** not_started: the undo was interrupted (SIGINT / SIGTERM) before this host's turn. */
export type HostUndoStatus = 'undone' | 'nothing_to_undo' | 'failed' | 'unreachable' | 'not_started';

export interface HostUndo {
  host: string;
  status: HostUndoStatus;
  /** Journal ids of the steps reverted (or attempted), newest first. */
  steps: number[];
  report?: UndoReport;
  message?: string;
}

export interface UndoRunResult {
  undoRunId: string;
  hosts: HostUndo[];
  /** Why the undo stopped before every host had its turn (the undo run is `interrupted`). */
  interrupted?: string;
}

export interface UndoRunInput {
  journal: Journal;
  /** The fleet lock the composition root chose: the journal's own, or one shared with other controllers. */
  lock: FleetLock;
  runId: string;
  /** Resolved targets of the hosts to undo (hosts of the run, selected by the caller). */
  targets: SshTarget[];
  bus?: EventBus;
  forks?: number;
  open?: FleetOptions<unknown>['open'];
  commandTimeoutMs?: number;
  /**
   * The operator checked: a run marked running by a controller on another machine with no lease is dead, and a
   * host that now presents another host key than when the run changed it is the same machine.
   */
  force?: boolean;
  /** Aborted by the operator (SIGINT / SIGTERM): no host starts its undo after that. */
  stop?: AbortSignal;
}

/** Refused before any host is touched: unknown run, run still in progress, host locked by another run. */
export class UndoRefused extends Error {
  override readonly name = 'UndoRefused';
}

/** Refuses (UndoRefused) an unknown run, or one whose controller may still be working on it (its lease, else its pid). */
export function checkRunnable(journal: Journal, run: RunRow | undefined, runId: string, force: boolean): RunRow {
  if (!run) throw new UndoRefused(`no run ${runId} in the journal (rollgate runs lists them)`);
  const life = runLife(journal, run);
  if (life.alive === true && !leasedHere(journal, runId)) {
    const owner = journal.leases().read(runId)?.owner ?? run.controller;
    throw new UndoRefused(
      `run ${runId} is still in progress (${life.why}): stop it first (Ctrl-C, or kill -TERM ${owner.slice(owner.lastIndexOf(':') + 1)})`,
    );
  }
  if (life.alive === 'unknown' && !force) throw new UndoRefused(`run ${runId} ${life.why}; if it is dead, add --force`);
  return run;
}

/** This very process holds the run (an undo started by the run's own controller). */
function leasedHere(journal: Journal, runId: string): boolean {
  const run = journal.getRun(runId);
  return (journal.leases().read(runId)?.owner ?? run?.controller) === thisController();
}

/** What undo needs of a journaled step: its record, how it ended, and a name for the report. */
export function undoEntry(step: UndoableStep): UndoEntry {
  const outcome = step.status === 'applied' ? 'applied' : step.status === 'pending' ? 'pending' : 'failed';
  return { record: step.undo, outcome, label: `step ${step.id} ${JSON.stringify(step.task)}` };
}

/** The hosts a run touched (its host list and every host with a journaled step). */
export function runHosts(journal: Journal, runId: string): string[] {
  const names = new Set([
    ...journal.listHosts(runId).map((h) => h.host),
    ...journal.listSteps(runId).map((s) => s.host),
  ]);
  return [...names].sort();
}

export async function undoRun(input: UndoRunInput): Promise<UndoRunResult> {
  const { journal, runId } = input;
  checkRunnable(journal, journal.getRun(runId), runId, input.force ?? false);
  const hosts = input.targets.map((t) => t.name);
  const { lock } = input;
  const undo = beginNewRun(journal, { kind: 'undo', parentRunId: runId, options: { hosts } }, input.stop);
  const control = undo.control;
  const subjects = addressSubjects(input.targets);
  let locked = await lock.acquireHostLocks(undo.id, subjects);
  if (!locked.ok && locked.conflicts.every((c) => c.held.runId === runId)) {
    // Locks left by the run being undone, which checkRunnable found finished or dead: take its hosts over.
    await lock.releaseHostLocks(runId, [...new Set(locked.conflicts.map((c) => c.held.host))]);
    locked = await lock.acquireHostLocks(undo.id, subjects);
  }
  if (!locked.ok) {
    undo.end('failed');
    throw new UndoRefused(`hosts locked:\n${describeConflicts(journal, locked.conflicts, lock.shared)}`);
  }
  const claim = { journal, lock, runId: undo.id, recordedIn: runId, ...(input.force ? { force: true } : {}) };
  const base: NonNullable<FleetOptions<HostUndo>['open']> = input.open ?? openSsh;
  const open = claimingOpener(base, claim);
  try {
    const outcomes = await runOnFleet<HostUndo>(
      input.targets,
      async (conn, target) => {
        const steps = journal.undoableSteps(runId, target.name);
        if (steps.length === 0) return { host: target.name, status: 'nothing_to_undo', steps: [] };
        const stepId = journal.beginStep(undo.id, target.name, {
          task: `undo run ${runId}`,
          module: 'undo',
          args: { steps: steps.map((s) => s.id) },
        });
        const report = await applyUndos(
          conn,
          steps.map(undoEntry),
          input.commandTimeoutMs ? { commandTimeoutMs: input.commandTimeoutMs } : {},
        );
        const ok = report.failures.length === 0;
        if (ok) steps.forEach((s) => journal.markUndone(s.id, undo.id));
        journal.finishStep(stepId, {
          status: ok ? 'applied' : 'failed',
          message: ok ? `undid ${steps.length} step(s)` : report.failures.join('; '),
          data: { report },
        });
        return {
          host: target.name,
          status: ok ? 'undone' : 'failed',
          steps: steps.map((s) => s.id),
          report,
          ...(ok ? {} : { message: report.failures.join('; ') }),
        };
      },
      {
        ...(input.bus ? { bus: input.bus } : {}),
        ...(input.forks ? { forks: input.forks } : {}),
        open,
        failed: (v) => (v.status === 'failed' ? v.message : undefined),
        stop: control.signal,
      },
    );
    const results: HostUndo[] = outcomes.map(
      (o) =>
        o.value ?? {
          host: o.host,
          status: o.status === 'unreachable' ? 'unreachable' : o.kind === 'stopped' ? 'not_started' : 'failed',
          steps: [],
          message: o.message ?? 'failed',
        },
    );
    for (const r of results) journal.setHostStatus(undo.id, r.host, r.status, r.message);
    const allDone = results.every((r) => r.status === 'undone' || r.status === 'nothing_to_undo');
    undo.finish(control.stopReason ? 'interrupted' : allDone ? 'succeeded' : 'failed');
    if (
      allDone &&
      runHosts(journal, runId).every((h) => journal.undoableSteps(runId, h).length === 0) &&
      results.some((r) => r.status === 'undone')
    ) {
      journal.finishRun(runId, 'rolled_back');
    }
    return { undoRunId: undo.id, hosts: results, ...(control.stopReason ? { interrupted: control.stopReason } : {}) };
  } finally {
    await lock.releaseHostLocks(undo.id);
    undo.release();
  }
}
