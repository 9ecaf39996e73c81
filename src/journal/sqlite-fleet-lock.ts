/**
 * FleetLock on the journal's SQLite database. Each acquire is one IMMEDIATE transaction, so two controller
 * processes sharing the file serialize on SQLite's write lock and can never both win a host.
 */
import type Database from 'better-sqlite3';
import { hostname } from 'node:os';
import type {
  AcquireOptions,
  DownSlot,
  FleetLock,
  HostLock,
  LockOutcome,
  LockSubject,
  SlotOutcome,
} from './fleet-lock.js';
import { conflictsOf, subjectsOf, toLock, toSlot } from './fleet-lock-rows.js';

export class SqliteFleetLock implements FleetLock {
  readonly shared = false;
  private readonly holder = `${hostname()}:${process.pid}`;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
    /** Runs one write, waiting while another process holds the database (Journal.write). */
    private readonly write: <T>(fn: () => T) => T = (fn) => fn(),
  ) {}

  async acquireHostLocks(
    runId: string,
    hosts: ReadonlyArray<string | LockSubject>,
    options: AcquireOptions = {},
  ): Promise<LockOutcome> {
    const subjects = subjectsOf(hosts);
    const tx = this.db.transaction((): LockOutcome => {
      const now = this.now();
      const select = this.db.prepare('SELECT * FROM host_locks WHERE machine = ?');
      const held = new Map<string, HostLock>();
      for (const s of subjects) {
        const row = select.get(s.machine);
        if (row) held.set(s.machine, toLock(row));
      }
      const conflicts = conflictsOf(subjects, held, runId, this.holder, now);
      if (conflicts.length) return { ok: false, conflicts };
      const upsert = this.db.prepare(
        `INSERT INTO host_locks (machine, host, run_id, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (machine) DO UPDATE SET host = excluded.host, run_id = excluded.run_id, holder = excluded.holder,
           acquired_at = excluded.acquired_at, expires_at = excluded.expires_at`,
      );
      const expires = options.ttlMs === undefined ? null : now + options.ttlMs;
      for (const s of subjects) upsert.run(s.machine, s.host, runId, this.holder, now, expires);
      return { ok: true, hosts: [...new Set(subjects.map((s) => s.host))] };
    });
    return this.write(() => tx.immediate());
  }

  async releaseHostLocks(runId: string, hosts?: readonly string[]): Promise<void> {
    if (!hosts) {
      this.write(() => this.db.prepare('DELETE FROM host_locks WHERE run_id = ?').run(runId));
      return;
    }
    const del = this.db.prepare('DELETE FROM host_locks WHERE run_id = ? AND host = ?');
    this.write(() => this.db.transaction(() => hosts.forEach((h) => del.run(runId, h))).immediate());
  }

  async listHostLocks(): Promise<HostLock[]> {
    return this.db
      .prepare('SELECT * FROM host_locks WHERE expires_at IS NULL OR expires_at > ? ORDER BY host, machine')
      .all(this.now())
      .map(toLock);
  }

  async acquireDownSlot(runId: string, cluster: string, host: string, maxDown: number): Promise<SlotOutcome> {
    const tx = this.db.transaction((): SlotOutcome => {
      const mine = this.db
        .prepare('SELECT 1 FROM down_slots WHERE cluster = ? AND host = ? AND run_id = ?')
        .get(cluster, host, runId);
      if (mine) return { ok: true };
      const down = this.db
        .prepare('SELECT * FROM down_slots WHERE cluster = ? ORDER BY acquired_at')
        .all(cluster)
        .map(toSlot);
      if (down.length >= maxDown || down.some((d) => d.host === host)) return { ok: false, cluster, maxDown, down };
      this.db
        .prepare('INSERT INTO down_slots (cluster, host, run_id, acquired_at) VALUES (?, ?, ?, ?)')
        .run(cluster, host, runId, this.now());
      return { ok: true };
    });
    return this.write(() => tx.immediate());
  }

  async releaseDownSlot(runId: string, cluster: string, host: string): Promise<void> {
    this.write(() =>
      this.db.prepare('DELETE FROM down_slots WHERE cluster = ? AND host = ? AND run_id = ?').run(cluster, host, runId),
    );
  }

  async listDownSlots(cluster?: string): Promise<DownSlot[]> {
    const rows = cluster
      ? this.db.prepare('SELECT * FROM down_slots WHERE cluster = ? ORDER BY acquired_at').all(cluster)
      : this.db.prepare('SELECT * FROM down_slots ORDER BY cluster, acquired_at').all();
    return rows.map(toSlot);
  }

  async breakRun(runId: string): Promise<void> {
    this.write(() =>
      this.db
        .transaction(() => {
          this.db.prepare('DELETE FROM host_locks WHERE run_id = ?').run(runId);
          this.db.prepare('DELETE FROM down_slots WHERE run_id = ?').run(runId);
        })
        .immediate(),
    );
  }

  /** Nothing to let go: the lock lives in the journal, which its owner closes. */
  async close(): Promise<void> {}
}
