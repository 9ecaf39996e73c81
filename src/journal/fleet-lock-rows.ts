/**
 * What the two FleetLock backends (sqlite-fleet-lock.ts, pg-fleet-lock.ts) share: their rows as values, the
 * subjects of a request without repeats, and the all-or-nothing decision of an acquire over the locks the store
 * holds now. Each backend only reads and writes its own tables around it, inside its own transaction.
 */
import type { DownSlot, HostLock, LockConflict, LockSubject } from './fleet-lock.js';

type Row = Record<string, unknown>;

export const toLock = (r: unknown): HostLock => {
  const row = r as Row;
  return {
    host: String(row.host),
    machine: String(row.machine),
    runId: String(row.run_id),
    holder: String(row.holder),
    acquiredAt: Number(row.acquired_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
  };
};

export const toSlot = (r: unknown): DownSlot => {
  const row = r as Row;
  return {
    cluster: String(row.cluster),
    host: String(row.host),
    runId: String(row.run_id),
    acquiredAt: Number(row.acquired_at),
  };
};

/** The request's subjects (a bare string locks `name:STRING`), without repeats (same host and machine). */
export function subjectsOf(hosts: ReadonlyArray<string | LockSubject>): LockSubject[] {
  const seen = new Set<string>();
  return hosts
    .map((h) => (typeof h === 'string' ? { host: h, machine: `name:${h}` } : h))
    .filter((s) => {
      const key = `${s.host}\0${s.machine}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/**
 * Why the run may not lock these subjects, given the lock each machine holds now (`held`): another run's lock
 * that has not expired, or this run's lock on the machine for another of its hosts (also within the request).
 */
export function conflictsOf(
  subjects: readonly LockSubject[],
  held: ReadonlyMap<string, HostLock>,
  runId: string,
  holder: string,
  now: number,
): LockConflict[] {
  const conflicts: LockConflict[] = [];
  const wanted = new Map<string, string>();
  for (const s of subjects) {
    // The same machine twice in one request: two names of this run for one machine.
    const other = wanted.get(s.machine);
    if (other !== undefined && other !== s.host) {
      conflicts.push({
        ...s,
        sameRun: true,
        held: { host: other, machine: s.machine, runId, holder, acquiredAt: now, expiresAt: null },
      });
      continue;
    }
    wanted.set(s.machine, s.host);
    const lock = held.get(s.machine);
    if (!lock) continue;
    const expired = lock.expiresAt !== null && lock.expiresAt <= now;
    if (expired || (lock.runId === runId && lock.host === s.host)) continue;
    conflicts.push({ ...s, held: lock, sameRun: lock.runId === runId });
  }
  return conflicts;
}
