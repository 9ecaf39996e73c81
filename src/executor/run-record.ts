/**
 * Where every command's run begins and ends in the journal: the run's row with what it was started with, the
 * controller's lease on it while it works (run-control.ts), and its final status. `run`, `rollout`, `resume` and
 * `undo` begin and end their runs here, so the CLI only composes; what a rollout keeps for its resume is said once
 * (`rolloutRecord`).
 */
import { InternalError } from '../core/internal-error.js';
import type { Journal } from '../journal/journal.js';
import type { NewRun, RunStatus } from '../journal/journal-types.js';
import { RunControl } from './run-control.js';

/** A new run as the journal keeps it: kind, playbook, inventory, --limit and the options worth keeping. */
export type RunRecord = Omit<NewRun, 'id'>;

/** A run this controller holds: its id and control (lease, stop signal) until it ends or lets go. */
export interface JournaledRun {
  readonly id: string;
  readonly control: RunControl;
  /** Record the run's final status; the lease stays until `release`. */
  finish(status: Exclude<RunStatus, 'running'>): void;
  /** Record the run's final status and let its lease go. */
  end(status: Exclude<RunStatus, 'running'>): void;
  /** Let the lease go (once; again is a no-op), leaving the run's status as it is (a resume that touched nothing). */
  release(): void;
}

export type RunBegun = { ok: true; run: JournaledRun } | { ok: false; id: string; message: string; owner: string };

/**
 * A new run from its record, or (resume: the run's id) a run already in the journal, taken over when its
 * controller is dead and refused while it lives. `stop` is the operator's stop signal.
 */
export function beginRun(journal: Journal, start: RunRecord | string, stop?: AbortSignal): RunBegun {
  const id = typeof start === 'string' ? start : journal.createRun(start).id;
  const held = RunControl.take(journal, id, stop);
  if (held.ok) return { ok: true, run: journaledRun(journal, id, held.control) };
  if (typeof start !== 'string')
    throw new InternalError(`a new ${start.kind} run ${id} already had a lease: ${held.message}`);
  return { ...held, id };
}

/** A new run, which no other controller can hold yet. */
export function beginNewRun(journal: Journal, record: RunRecord, stop?: AbortSignal): JournaledRun {
  const begun = beginRun(journal, record, stop);
  if (!begun.ok) throw new InternalError(begun.message);
  return begun.run;
}

function journaledRun(journal: Journal, id: string, control: RunControl): JournaledRun {
  let held = true;
  const release = () => {
    if (held) control.release();
    held = false;
  };
  const finish = (status: Exclude<RunStatus, 'running'>) => journal.finishRun(id, status);
  return {
    id,
    control,
    finish,
    end(status) {
      finish(status);
      release();
    },
    release,
  };
}

/** What a rollout keeps for `rollgate resume` (no secret: extra vars are redacted by the journal). */
export interface RolloutStart {
  playbook: string;
  inventory: string[];
  limit?: string;
  tags: readonly string[];
  skipTags: readonly string[];
  extraVars: Record<string, unknown>;
  bootTimeoutSec: number;
  /** `--prepare-boot` was given (the operator's consent to boot_default): resume keeps it. */
  prepareBoot?: boolean;
  /** The command line's maintenance window, as given (resume gives it again). */
  window?: unknown;
  /** How the run logged in (paths, never a password). */
  connection: unknown;
  /** The shared fleet lock holding the run's hosts, without its password; absent: the journal's. */
  fleetLock?: string;
}

export function rolloutRecord(s: RolloutStart): RunRecord {
  return {
    kind: 'rollout',
    playbook: s.playbook,
    inventory: s.inventory,
    ...(s.limit ? { limit: s.limit } : {}),
    // Extra vars are kept for resume; secret values are not (resume asks for them again).
    options: {
      tags: s.tags,
      skipTags: s.skipTags,
      extraVars: s.extraVars,
      bootTimeout: s.bootTimeoutSec,
      ...(s.prepareBoot ? { prepareBoot: true } : {}),
      ...(s.window ? { window: s.window } : {}),
      connection: s.connection,
      // Which fleet lock holds its hosts (no password): resume must use the same one.
      ...(s.fleetLock ? { fleetLock: s.fleetLock } : {}),
    },
  };
}
