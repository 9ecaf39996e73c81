/**
 * The journal as text for a person: `rollgate runs` (one line per run), `rollgate show RUN` (the run's events,
 * then each host's timeline and journaled steps) and what `rollgate unlock` released. What hosts said is kept
 * raw in the journal; shown here it is data, not terminal control, so every line goes through escapeTerminal.
 */
import type { RollgateEvent } from '../events/events.js';
import type { DownSlot, HostLock } from '../journal/fleet-lock.js';
import type { Journal } from '../journal/journal.js';
import type { RunRow } from '../journal/journal-types.js';
import { formatRolloutEvent } from './rollout-plain.js';
import { escapeTerminal } from './terminal-text.js';

const iso = (ms: number) => new Date(ms).toISOString();
const clock = (ms: number) => iso(ms).slice(11, 19);

/** `rollgate runs`: id, kind, status, start, host count, playbook. */
export function runListLine(journal: Journal, r: RunRow): string {
  const hosts = journal.listHosts(r.id);
  return escapeTerminal(
    `${r.id}  ${r.kind.padEnd(7)} ${r.status.padEnd(12)} ${iso(r.startedAt)}  ${hosts.length} host(s)  ${r.playbook ?? ''}`,
  );
}

/** `rollgate show RUN [--host H]`: the run's own events, then per host its events and steps. */
export function runTimelineLines(journal: Journal, run: RunRow, host?: string): string[] {
  const out: string[] = [];
  const finished = run.finishedAt ? `, finished ${iso(run.finishedAt)}` : '';
  out.push(`run ${run.id} (${run.kind}) ${run.status}, started ${iso(run.startedAt)}${finished}`);
  if (run.playbook) out.push(`playbook ${run.playbook}, inventory ${run.inventory.join(', ')}`);
  for (const e of journal.listEvents(run.id).filter((x) => x.host === null))
    for (const l of formatRolloutEvent(e.data as RollgateEvent)) out.push(`${clock(e.at)} ${l}`);
  for (const h of journal.listHosts(run.id).filter((x) => !host || x.host === host)) {
    out.push(`\n${h.host}: ${h.status}`);
    for (const e of journal.listEvents(run.id, h.host))
      for (const l of formatRolloutEvent(e.data as RollgateEvent))
        out.push(`  ${clock(e.at)} ${l.replace(/^ {2}/, '')}`);
    for (const s of journal.listSteps(run.id, h.host)) {
      const undone = s.undoneAt ? ` (undone by ${s.undoneBy})` : '';
      const message = s.message ? ` — ${s.message.split('\n')[0]}` : '';
      out.push(`  step #${s.id} ${s.module} "${s.task}": ${s.status}${undone}${message}`);
    }
  }
  return out.map(escapeTerminal);
}

/** What `rollgate unlock` released (or found nothing of). */
export interface UnlockResult {
  runId: string;
  /** One per host (its address and host key identities are released together). */
  locks: readonly HostLock[];
  slots: readonly DownSlot[];
  /** `--host` values: none means every host of the run. */
  asked?: readonly string[];
}

/** `rollgate unlock`: a line per released lock and slot, and per asked host the run held nothing on. */
export function unlockLines(r: UnlockResult): string[] {
  const out: string[] = [];
  for (const l of r.locks)
    out.push(`${l.host}: host lock of run ${r.runId} released (held since ${iso(l.acquiredAt)})`);
  for (const s of r.slots) out.push(`${s.host}: down slot of cluster ${s.cluster} released`);
  const free = (r.asked ?? []).filter((h) => !r.locks.some((l) => l.host === h) && !r.slots.some((s) => s.host === h));
  for (const h of free) out.push(`${h}: run ${r.runId} holds no lock on it`);
  if (!r.asked && r.locks.length === 0 && r.slots.length === 0) out.push(`run ${r.runId} holds no lock`);
  return out;
}
