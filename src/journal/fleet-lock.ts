/**
 * The fleet lock: two runs never change the same host at once, and a cluster caps how many of its hosts are
 * down at a time (like Kured's lock). Asynchronous so a shared database (PostgreSQL, for several controllers)
 * can implement it later; on one controller the journal's SQLite database holds it (sqlite-fleet-lock.ts).
 */

export interface HostLock {
  host: string;
  runId: string;
  /** hostname:pid of the controller holding it. */
  holder: string;
  acquiredAt: number;
  /** After this time the lock counts as abandoned and another run may take it; null: held until released. */
  expiresAt: number | null;
}

export interface DownSlot {
  cluster: string;
  host: string;
  runId: string;
  acquiredAt: number;
}

/** All or nothing: either every host is now locked by the run, or none is and the conflicts say by whom. */
export type LockOutcome = { ok: true; hosts: string[] } | { ok: false; conflicts: HostLock[] };

export type SlotOutcome = { ok: true } | { ok: false; cluster: string; maxDown: number; down: DownSlot[] };

export interface AcquireOptions {
  /** Lock lifetime in milliseconds; default: until released. */
  ttlMs?: number;
}

export interface FleetLock {
  /**
   * Lock every host for the run, atomically. A host already locked by the same run stays locked (resume);
   * a host locked by another run whose lock has not expired makes the whole call fail.
   */
  acquireHostLocks(runId: string, hosts: readonly string[], options?: AcquireOptions): Promise<LockOutcome>;
  /** Release the run's locks on these hosts (all of them when omitted). Locks of other runs are left alone. */
  releaseHostLocks(runId: string, hosts?: readonly string[]): Promise<void>;
  /** Current host locks (expired ones excluded). */
  listHostLocks(): Promise<HostLock[]>;
  /**
   * Take one of the cluster's `maxDown` slots before taking a host down (reboot). Idempotent for the same
   * run and host. Fails when the cluster already has `maxDown` hosts down, listing them.
   */
  acquireDownSlot(runId: string, cluster: string, host: string, maxDown: number): Promise<SlotOutcome>;
  releaseDownSlot(runId: string, cluster: string, host: string): Promise<void>;
  listDownSlots(cluster?: string): Promise<DownSlot[]>;
  /** Operator override: drop every lock and slot a run holds (e.g. a run that will never resume). */
  breakRun(runId: string): Promise<void>;
}
