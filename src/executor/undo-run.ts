/**
 * Undo a journaled run on some of its hosts: every step with an undo record that is not undone yet (applied,
 * failed, or still `pending` because the controller died mid-apply), newest first, files first then one pass of
 * the undo commands each step's outcome allows (reversals only for applied steps; modules/undo.ts). The undo is
 * itself a run in the journal,
 * holds the fleet lock on its hosts, and marks the steps it reverted; a host where anything failed keeps its
 * steps undoable so the undo can be run again.
 */
import { hostname } from 'node:os';
import type { SshTarget } from '../connection/target.js';
import type { EventBus } from '../events/events.js';
import type { Journal } from '../journal/journal.js';
import type { RunRow, UndoableStep } from '../journal/journal-types.js';
import { applyUndos, type UndoEntry, type UndoReport } from '../modules/undo.js';
import { runOnFleet, type FleetOptions } from './fleet.js';

export type HostUndoStatus = 'undone' | 'nothing_to_undo' | 'failed' | 'unreachable';

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
}

export interface UndoRunInput {
  journal: Journal;
  runId: string;
  /** Resolved targets of the hosts to undo (hosts of the run, selected by the caller). */
  targets: SshTarget[];
  bus?: EventBus;
  forks?: number;
  open?: FleetOptions<unknown>['open'];
  commandTimeoutMs?: number;
  /** Skip the "is that run still alive?" check (its controller is on another machine and known dead). */
  force?: boolean;
}

/** Refused before any host is touched: unknown run, run still in progress, host locked by another run. */
export class UndoRefused extends Error {
  override readonly name = 'UndoRefused';
}

/** Whether the controller process that wrote a run is still alive (only knowable on the same machine). */
export function controllerAlive(controller: string): boolean | 'unknown' {
  const [host, pidText] = [controller.slice(0, controller.lastIndexOf(':')), controller.slice(controller.lastIndexOf(':') + 1)];
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return 'unknown';
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Refuses (UndoRefused) an unknown run, or one whose controller may still be working on it. */
export function checkRunnable(run: RunRow | undefined, runId: string, force: boolean): RunRow {
  if (!run) throw new UndoRefused(`no run ${runId} in the journal (rollgate runs lists them)`);
  if (run.status === 'running' && !force && run.controller !== `${hostname()}:${process.pid}`) {
    const alive = controllerAlive(run.controller);
    if (alive !== false) {
      throw new UndoRefused(
        alive === true
          ? `run ${runId} is still in progress (controller ${run.controller}); stop it first`
          : `run ${runId} is marked running by controller ${run.controller} on another machine; if it is dead, add --force`,
      );
    }
  }
  return run;
}

/** What undo needs of a journaled step: its record, how it ended, and a name for the report. */
export function undoEntry(step: UndoableStep): UndoEntry {
  const outcome = step.status === 'applied' ? 'applied' : step.status === 'pending' ? 'pending' : 'failed';
  return { record: step.undo, outcome, label: `step ${step.id} ${JSON.stringify(step.task)}` };
}

/** The hosts a run touched (its host list and every host with a journaled step). */
export function runHosts(journal: Journal, runId: string): string[] {
  const names = new Set([...journal.listHosts(runId).map((h) => h.host), ...journal.listSteps(runId).map((s) => s.host)]);
  return [...names].sort();
}

export async function undoRun(input: UndoRunInput): Promise<UndoRunResult> {
  const { journal, runId } = input;
  checkRunnable(journal.getRun(runId), runId, input.force ?? false);
  const hosts = input.targets.map((t) => t.name);
  const lock = journal.fleetLock();
  const undo = journal.createRun({ kind: 'undo', parentRunId: runId, options: { hosts } });
  let locked = await lock.acquireHostLocks(undo.id, hosts);
  if (!locked.ok && locked.conflicts.every((c) => c.runId === runId)) {
    // Locks left by the run being undone, which checkRunnable found finished or dead: take its hosts over.
    await lock.releaseHostLocks(runId, hosts);
    locked = await lock.acquireHostLocks(undo.id, hosts);
  }
  if (!locked.ok) {
    journal.finishRun(undo.id, 'failed');
    throw new UndoRefused(`hosts locked by other runs: ${locked.conflicts.map((c) => `${c.host} (run ${c.runId}, ${c.holder})`).join(', ')}`);
  }
  try {
    const outcomes = await runOnFleet<HostUndo>(
      input.targets,
      async (conn, target) => {
        const steps = journal.undoableSteps(runId, target.name);
        if (steps.length === 0) return { host: target.name, status: 'nothing_to_undo', steps: [] };
        const stepId = journal.beginStep(undo.id, target.name, { task: `undo run ${runId}`, module: 'undo', args: { steps: steps.map((s) => s.id) } });
        const report = await applyUndos(conn, steps.map(undoEntry), input.commandTimeoutMs ? { commandTimeoutMs: input.commandTimeoutMs } : {});
        const ok = report.failures.length === 0;
        if (ok) steps.forEach((s) => journal.markUndone(s.id, undo.id));
        journal.finishStep(stepId, { status: ok ? 'applied' : 'failed', message: ok ? `undid ${steps.length} step(s)` : report.failures.join('; '), data: { report } });
        return { host: target.name, status: ok ? 'undone' : 'failed', steps: steps.map((s) => s.id), report, ...(ok ? {} : { message: report.failures.join('; ') }) };
      },
      {
        ...(input.bus ? { bus: input.bus } : {}),
        ...(input.forks ? { forks: input.forks } : {}),
        ...(input.open ? { open: input.open } : {}),
        failed: (v) => (v.status === 'failed' ? v.message : undefined),
      },
    );
    const results: HostUndo[] = outcomes.map((o) => o.value ?? { host: o.host, status: o.status === 'unreachable' ? 'unreachable' : 'failed', steps: [], message: o.message ?? 'failed' });
    for (const r of results) journal.setHostStatus(undo.id, r.host, r.status, r.message);
    const allDone = results.every((r) => r.status === 'undone' || r.status === 'nothing_to_undo');
    journal.finishRun(undo.id, allDone ? 'succeeded' : 'failed');
    if (allDone && runHosts(journal, runId).every((h) => journal.undoableSteps(runId, h).length === 0) && results.some((r) => r.status === 'undone')) {
      journal.finishRun(runId, 'rolled_back');
    }
    return { undoRunId: undo.id, hosts: results };
  } finally {
    await lock.releaseHostLocks(undo.id);
  }
}
