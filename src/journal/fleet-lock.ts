/**
 * The fleet lock: two runs never change the same machine at once, one run never drives a machine under two
 * names, and a cluster caps how many of its hosts are down at a time (like Kured's lock). A lock is keyed by the
 * machine's identity (executor/machine-identity.ts: its address and port before connecting, its SSH host key
 * once connected), and names the inventory host it was taken for. Asynchronous so a shared database
 * (PostgreSQL, for several controllers) can implement it later; on one controller the journal's SQLite database
 * holds it (sqlite-fleet-lock.ts).
 */

/** One machine to lock for a host of the run. A bare string locks `name:STRING` (tests, older journals). */
export interface LockSubject {
  /** Inventory name of the host. */
  host: string;
  /** The machine's identity: `addr:ADDRESS:PORT[@JUMP]` or `key:SHA256:...`. */
  machine: string;
}

export interface HostLock {
  /** Inventory name the lock was taken for. */
  host: string;
  machine: string;
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

/**
 * Why a host could not be locked: `held` is another run's lock on its machine, or (sameRun) this run's own lock
 * on it for another of its hosts, i.e. the same machine listed under two names.
 */
export interface LockConflict {
  host: string;
  machine: string;
  held: HostLock;
  sameRun: boolean;
}

/** All or nothing: either every host is now locked by the run, or none is and the conflicts say by whom. */
export type LockOutcome = { ok: true; hosts: string[] } | { ok: false; conflicts: LockConflict[] };

export type SlotOutcome = { ok: true } | { ok: false; cluster: string; maxDown: number; down: DownSlot[] };

export interface AcquireOptions {
  /** Lock lifetime in milliseconds; default: until released. */
  ttlMs?: number;
}

export interface FleetLock {
  /** Held in a database other controllers share (PostgreSQL), not in this controller's journal. */
  readonly shared: boolean;
  /**
   * Lock every host's machine for the run, atomically. A machine already locked by the same run for the same
   * host stays locked (resume, or a second identity of it); one locked by another run whose lock has not
   * expired, or by this run for another host, makes the whole call fail.
   */
  acquireHostLocks(
    runId: string,
    hosts: ReadonlyArray<string | LockSubject>,
    options?: AcquireOptions,
  ): Promise<LockOutcome>;
  /** Release the run's locks (every identity) of these hosts (all of them when omitted). Other runs' are left alone. */
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
  /** Let go of the lock's connections (the composition root, when the command is done); the locks stay. */
  close(): Promise<void>;
}
