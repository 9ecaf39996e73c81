/**
 * The journal as JSON for scripts and dashboards: `rollgate runs --json` (one run per line, newest first) and
 * `rollgate show RUN --json` (one document: the run, then each host with its events and steps). Built from what
 * the journal holds, which was scrubbed of secrets when it was written; host variables are left out.
 */
import type { Journal } from '../journal/journal.js';
import type { RunRow } from '../journal/journal-types.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** One run with its hosts' outcomes, as `rollgate runs --json` prints it. */
export function runSummary(journal: Journal, run: RunRow): Record<string, unknown> {
  return {
    id: run.id,
    kind: run.kind,
    status: run.status,
    playbook: run.playbook,
    inventory: run.inventory,
    limit: run.limit,
    parentRunId: run.parentRunId,
    controller: run.controller,
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    hosts: journal.listHosts(run.id).map((h) => ({ host: h.host, status: h.status, detail: h.detail })),
  };
}

/** A run in full, as `rollgate show RUN --json` prints it; `hosts` limits it to those hosts. */
export function runDetail(journal: Journal, run: RunRow, hosts?: readonly string[]): Record<string, unknown> {
  const wanted = journal.listHosts(run.id).filter((h) => !hosts?.length || hosts.includes(h.host));
  return {
    ...runSummary(journal, run),
    events: journal
      .listEvents(run.id)
      .filter((e) => e.host === null)
      .map((e) => e.data),
    hosts: wanted.map((h) => ({
      host: h.host,
      status: h.status,
      detail: h.detail,
      identity: h.identity,
      events: journal.listEvents(run.id, h.host).map((e) => e.data),
      steps: journal.listSteps(run.id, h.host).map((s) => ({
        id: s.id,
        task: s.task,
        module: s.module,
        status: s.status,
        message: s.message,
        startedAt: iso(s.startedAt),
        finishedAt: iso(s.finishedAt),
        undoable: s.hasUndo,
        undoneAt: iso(s.undoneAt),
        undoneBy: s.undoneBy,
      })),
    })),
  };
}
