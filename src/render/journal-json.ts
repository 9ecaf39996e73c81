/**
 * The journal as JSON for scripts and dashboards: `rollgate runs --json` (one run per line, newest first) and
 * `rollgate show RUN --json` (one document: the run, then each host with its events and steps). Built from what
 * the journal holds, which was scrubbed of secrets when it was written; host variables are left out.
 */
import type { Journal } from '../journal/journal.js';
import type { HostIdentity, RunKind, RunRow, RunStatus, StepStatus } from '../journal/journal-types.js';

/** A host's outcome in a run: its status and the engine's record (a rollout's phase record, JSON text). */
export interface RunHostJson {
  host: string;
  /** `ok`, `changed`, `failed`, `unreachable`, `rolled_back`, `needs_person`, or a rollout phase while it runs. */
  status: string;
  detail: string | null;
}

/** `rollgate runs --json`: one of these per line, newest first. Times are ISO 8601 (UTC). */
export interface RunSummaryJson {
  id: string;
  kind: RunKind;
  status: RunStatus;
  playbook: string | null;
  inventory: string[];
  limit: string | null;
  /** For an undo or resume run: the run it acts on. */
  parentRunId: string | null;
  /** hostname:pid of the controller that created the run. */
  controller: string;
  startedAt: string;
  finishedAt: string | null;
  hosts: RunHostJson[];
}

/** An event as journaled (src/events/events.ts names each type and its fields). */
export interface JournalEventJson {
  type: string;
  /** Epoch milliseconds. */
  at: number;
  [field: string]: unknown;
}

/** A journaled step (a task's change on a host). */
export interface StepJson {
  id: number;
  task: string;
  module: string;
  status: StepStatus;
  message: string | null;
  startedAt: string;
  finishedAt: string | null;
  /** An undo record was journaled before the step ran. */
  undoable: boolean;
  undoneAt: string | null;
  /** The undo run that took it back. */
  undoneBy: string | null;
}

export interface HostDetailJson extends RunHostJson {
  /** The machine the run first reached under this name (null until it connected). */
  identity: HostIdentity | null;
  events: JournalEventJson[];
  steps: StepJson[];
}

/** `rollgate show RUN --json`: the run, its run-wide events, then each host with its events and steps. */
export interface RunDetailJson extends Omit<RunSummaryJson, 'hosts'> {
  events: JournalEventJson[];
  hosts: HostDetailJson[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const isoOf = (ms: number) => new Date(ms).toISOString();
const asEvent = (data: Record<string, unknown>) => data as JournalEventJson;

/** One run with its hosts' outcomes, as `rollgate runs --json` prints it. */
export function runSummary(journal: Journal, run: RunRow): RunSummaryJson {
  return {
    id: run.id,
    kind: run.kind,
    status: run.status,
    playbook: run.playbook,
    inventory: run.inventory,
    limit: run.limit,
    parentRunId: run.parentRunId,
    controller: run.controller,
    startedAt: isoOf(run.startedAt),
    finishedAt: iso(run.finishedAt),
    hosts: journal.listHosts(run.id).map((h) => ({ host: h.host, status: h.status, detail: h.detail })),
  };
}

/** A run in full, as `rollgate show RUN --json` prints it; `hosts` limits it to those hosts. */
export function runDetail(journal: Journal, run: RunRow, hosts?: readonly string[]): RunDetailJson {
  const wanted = journal.listHosts(run.id).filter((h) => !hosts?.length || hosts.includes(h.host));
  return {
    ...runSummary(journal, run),
    events: journal
      .listEvents(run.id)
      .filter((e) => e.host === null)
      .map((e) => asEvent(e.data)),
    hosts: wanted.map((h) => ({
      host: h.host,
      status: h.status,
      detail: h.detail,
      identity: h.identity,
      events: journal.listEvents(run.id, h.host).map((e) => asEvent(e.data)),
      steps: journal.listSteps(run.id, h.host).map((s) => ({
        id: s.id,
        task: s.task,
        module: s.module,
        status: s.status,
        message: s.message,
        startedAt: isoOf(s.startedAt),
        finishedAt: iso(s.finishedAt),
        undoable: s.hasUndo,
        undoneAt: iso(s.undoneAt),
        undoneBy: s.undoneBy,
      })),
    })),
  };
}
