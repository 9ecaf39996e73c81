/**
 * FleetLock on PostgreSQL, for several controllers (two operators, two sites, a controller per bastion): their
 * host locks and cluster down-slots live in one database, so two runs never change one machine at once and a
 * cluster's `rollgate_max_down` holds across controllers. Same contract as the SQLite lock (sqlite-fleet-lock.ts):
 * each acquire is one transaction that first takes a transaction-scoped advisory lock, so acquirers (of any
 * controller) serialize and can never both win a machine or a slot. The tables are created on first use.
 */
import { hostname } from 'node:os';
import pg from 'pg';
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
import { DatabaseLostError, isConnectionLoss, oneLine, reconnectDelay, RECONNECT_BOUND_MS } from './database-lost.js';
import { urlWithoutPassword } from './pg-url.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** Every acquire and release runs under this advisory lock (one number: rollgate's fleet lock). */
const ADVISORY_KEY = 0x726f6c6c; // 'roll'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS fleet_host_locks (
  machine TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  run_id TEXT NOT NULL,
  holder TEXT NOT NULL,
  acquired_at BIGINT NOT NULL,
  expires_at BIGINT
);
CREATE TABLE IF NOT EXISTS fleet_down_slots (
  cluster TEXT NOT NULL,
  host TEXT NOT NULL,
  run_id TEXT NOT NULL,
  acquired_at BIGINT NOT NULL,
  PRIMARY KEY (cluster, host)
);`;

export class PgFleetLock implements FleetLock {
  readonly shared = true;
  private readonly holder = `${hostname()}:${process.pid}`;
  private readonly pool: pg.Pool;
  private readonly where: string;
  private ready: Promise<void> | undefined;

  /** `url`: a PostgreSQL connection string (`postgres://user@host/db`, or with `?host=/socket/dir`). */
  /**
   * `lost`: whether the journal this lock lives beside is already lost (its own database): then the lock gives up
   * at once instead of waiting for the same server again.
   */
  constructor(
    url: string,
    private readonly now: () => number = Date.now,
    private readonly lost: () => DatabaseLostError | undefined = () => undefined,
  ) {
    // Idle connections never keep the controller alive; every query is bounded.
    this.pool = new pg.Pool({
      connectionString: url,
      max: 4,
      allowExitOnIdle: true,
      connectionTimeoutMillis: 10_000,
      query_timeout: 30_000,
    });
    // An idle connection the server ended (a restart, pg_terminate_backend) is dropped by the pool, which says so
    // here: unheard, Node ends the process on it. The next transaction opens a new one.
    this.pool.on('error', () => undefined);
    this.where = urlWithoutPassword(url);
  }

  /** Run `fn` in one transaction holding the fleet lock's advisory lock (serializes every acquirer). */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    // Created under the same advisory lock: CREATE TABLE IF NOT EXISTS alone races between controllers.
    this.ready ??= this.inTx(async (c) => void (await c.query(SCHEMA))).catch((err: unknown) => {
      this.ready = undefined; // a server that was down a moment ago is asked again next time
      throw err;
    });
    await this.ready;
    return this.inTx(fn);
  }

  /**
   * `fn` in one transaction, run again on a new connection while the server goes away and comes back (with
   * backoff, for at most RECONNECT_BOUND_MS), then DatabaseLostError. Running one again is safe even when its
   * COMMIT was lost in flight: every transaction here reads the locks it is about to write (an acquire finds the
   * run's own lock or slot and takes it again) or deletes what it names.
   */
  private async inTx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const lostFirst = this.lost();
    if (lostFirst) throw lostFirst;
    const started = Date.now();
    // Bounded: attempts stop RECONNECT_BOUND_MS after `started` (each connect bounded by connectionTimeoutMillis).
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.txOnce(fn);
      } catch (err) {
        if (!isConnectionLoss(err)) throw err;
        const gone = this.lost();
        if (gone) throw gone;
        const waited = Date.now() - started;
        const delay = reconnectDelay(attempt);
        if (waited + delay > RECONNECT_BOUND_MS)
          throw new DatabaseLostError(
            'fleet lock',
            this.where,
            `cannot be reached (${oneLine((err as Error).message)}; tried again for ${Math.round(waited / 1000)} s)`,
          );
        await sleep(delay);
      }
    }
  }

  private async txOnce<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let broken = false;
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_KEY]);
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      broken = isConnectionLoss(err);
      if (!broken) await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release(broken); // a broken connection is closed, not given to the next transaction
    }
  }

  async acquireHostLocks(
    runId: string,
    hosts: ReadonlyArray<string | LockSubject>,
    options: AcquireOptions = {},
  ): Promise<LockOutcome> {
    const subjects = subjectsOf(hosts);
    return this.tx(async (c) => {
      const now = this.now();
      const { rows } = await c.query('SELECT * FROM fleet_host_locks WHERE machine = ANY($1)', [
        subjects.map((s) => s.machine),
      ]);
      const held = new Map((rows as unknown[]).map((r) => toLock(r)).map((l) => [l.machine, l] as const));
      const conflicts = conflictsOf(subjects, held, runId, this.holder, now);
      if (conflicts.length) return { ok: false, conflicts };
      const expires = options.ttlMs === undefined ? null : now + options.ttlMs;
      for (const s of subjects)
        await c.query(
          `INSERT INTO fleet_host_locks (machine, host, run_id, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (machine) DO UPDATE SET host = EXCLUDED.host, run_id = EXCLUDED.run_id, holder = EXCLUDED.holder,
             acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at`,
          [s.machine, s.host, runId, this.holder, now, expires],
        );
      return { ok: true as const, hosts: [...new Set(subjects.map((s) => s.host))] };
    });
  }

  async releaseHostLocks(runId: string, hosts?: readonly string[]): Promise<void> {
    await this.tx(async (c) => {
      if (!hosts) await c.query('DELETE FROM fleet_host_locks WHERE run_id = $1', [runId]);
      else await c.query('DELETE FROM fleet_host_locks WHERE run_id = $1 AND host = ANY($2)', [runId, [...hosts]]);
    });
  }

  async listHostLocks(): Promise<HostLock[]> {
    return this.tx(async (c) => {
      const { rows } = await c.query(
        'SELECT * FROM fleet_host_locks WHERE expires_at IS NULL OR expires_at > $1 ORDER BY host, machine',
        [this.now()],
      );
      return rows.map(toLock);
    });
  }

  async acquireDownSlot(runId: string, cluster: string, host: string, maxDown: number): Promise<SlotOutcome> {
    return this.tx(async (c): Promise<SlotOutcome> => {
      const mine = await c.query('SELECT 1 FROM fleet_down_slots WHERE cluster = $1 AND host = $2 AND run_id = $3', [
        cluster,
        host,
        runId,
      ]);
      if (mine.rowCount) return { ok: true };
      const { rows } = await c.query('SELECT * FROM fleet_down_slots WHERE cluster = $1 ORDER BY acquired_at, host', [
        cluster,
      ]);
      const down = rows.map(toSlot);
      if (down.length >= maxDown || down.some((d) => d.host === host)) return { ok: false, cluster, maxDown, down };
      await c.query('INSERT INTO fleet_down_slots (cluster, host, run_id, acquired_at) VALUES ($1, $2, $3, $4)', [
        cluster,
        host,
        runId,
        this.now(),
      ]);
      return { ok: true };
    });
  }

  async releaseDownSlot(runId: string, cluster: string, host: string): Promise<void> {
    await this.tx((c) =>
      c.query('DELETE FROM fleet_down_slots WHERE cluster = $1 AND host = $2 AND run_id = $3', [cluster, host, runId]),
    );
  }

  async listDownSlots(cluster?: string): Promise<DownSlot[]> {
    return this.tx(async (c) => {
      const { rows } = cluster
        ? await c.query('SELECT * FROM fleet_down_slots WHERE cluster = $1 ORDER BY acquired_at, host', [cluster])
        : await c.query('SELECT * FROM fleet_down_slots ORDER BY cluster, acquired_at, host');
      return rows.map(toSlot);
    });
  }

  async breakRun(runId: string): Promise<void> {
    await this.tx(async (c) => {
      await c.query('DELETE FROM fleet_host_locks WHERE run_id = $1', [runId]);
      await c.query('DELETE FROM fleet_down_slots WHERE run_id = $1', [runId]);
    });
  }

  /** Close the pool (a controller's idle connections do not keep it alive anyway). */
  async close(): Promise<void> {
    await this.pool.end();
  }
}
