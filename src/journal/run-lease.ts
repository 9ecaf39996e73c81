/**
 * One controller per run: the controller working on a run holds its lease in the journal (owner hostname:pid,
 * a random token only it knows, heartbeat, expiry) and renews it while it works. Another process may take a run
 * over (`rollgate resume`) only when its owner is dead: on this machine, its pid has exited or its lease went
 * stale (the pid may now be someone else's); on another machine, its lease has expired. Taking over is one
 * serializing transaction (SQLite's IMMEDIATE, PostgreSQL's advisory lock: store.ts), so of two resumes racing
 * exactly one wins, whichever controller each runs on.
 */
import type { JournalStore } from './store.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** How long a lease lives without a heartbeat, in milliseconds. */
export const LEASE_TTL_MS = 60_000;
/** How often a working controller renews its lease, in milliseconds (several beats per lifetime). */
export const LEASE_RENEW_MS = 15_000;

export interface RunLease {
  runId: string;
  /** hostname:pid of the controller. */
  owner: string;
  token: string;
  heartbeatAt: number;
  expiresAt: number;
}

/** Whether a lease's controller lives, and why we think so (for messages). */
export interface LeaseLife {
  alive: boolean;
  why: string;
}

/** This process, as lease owners and run controllers are written. */
export function thisController(): string {
  return `${hostname()}:${process.pid}`;
}

/** Whether the process `controller` (hostname:pid) is alive; 'unknown' when it runs on another machine. */
export function controllerAlive(controller: string, here = hostname()): boolean | 'unknown' {
  const at = controller.lastIndexOf(':');
  const pid = Number(controller.slice(at + 1));
  if (controller.slice(0, at) !== here || !Number.isInteger(pid) || pid <= 0) return 'unknown';
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Same machine: the pid is alive and the lease fresh. Another machine: the lease has not expired. */
export function leaseLife(lease: RunLease, now = Date.now(), here = hostname()): LeaseLife {
  const pid = controllerAlive(lease.owner, here);
  const fresh = lease.expiresAt > now;
  const beat = `last heartbeat ${Math.max(0, Math.round((now - lease.heartbeatAt) / 1000))} s ago`;
  if (pid === false) return { alive: false, why: `its controller ${lease.owner} has exited` };
  if (pid === true) {
    return fresh
      ? { alive: true, why: `its controller ${lease.owner} is alive (${beat})` }
      : {
          alive: false,
          why: `its controller ${lease.owner} stopped renewing its lease (${beat}; the pid is stuck or now another process's)`,
        };
  }
  return fresh
    ? {
        alive: true,
        why: `its controller ${lease.owner} on another machine holds its lease until ${iso(lease.expiresAt)} (${beat})`,
      }
    : {
        alive: false,
        why: `the lease of its controller ${lease.owner} on another machine expired at ${iso(lease.expiresAt)}`,
      };
}

const toLease = (r: unknown): RunLease => {
  const row = r as Record<string, unknown>;
  return {
    runId: String(row.run_id),
    owner: String(row.owner),
    token: String(row.token),
    heartbeatAt: Number(row.heartbeat_at),
    expiresAt: Number(row.expires_at),
  };
};

export function readLease(store: JournalStore, runId: string): RunLease | undefined {
  const row = store.get('SELECT * FROM run_leases WHERE run_id = ?', runId);
  return row ? toLease(row) : undefined;
}

/** Leases this process holds (what a forced stop must let go of). */
export function leasesOwnedBy(store: JournalStore, owner = thisController()): RunLease[] {
  return store.all('SELECT * FROM run_leases WHERE owner = ?', owner).map(toLease);
}

export type LeaseOutcome =
  { ok: true; lease: RunLease; tookOver?: RunLease } | { ok: false; holder: RunLease; life: LeaseLife };

/**
 * Take the run's lease for this process, in one serializing transaction: free, ours already, or its owner dead
 * (then `tookOver` is the dead owner's). A live owner refuses. `write` waits while the journal is busy.
 */
export function takeLease(
  store: JournalStore,
  runId: string,
  write: <T>(fn: () => T) => T,
  now: () => number = Date.now,
): LeaseOutcome {
  const owner = thisController();
  const tx = (): LeaseOutcome => {
    const at = now();
    const held = readLease(store, runId);
    if (held && held.owner !== owner) {
      const life = leaseLife(held, at);
      if (life.alive) return { ok: false, holder: held, life };
    }
    const lease: RunLease = {
      runId,
      owner,
      token: randomBytes(16).toString('hex'),
      heartbeatAt: at,
      expiresAt: at + LEASE_TTL_MS,
    };
    store.run(
      `INSERT INTO run_leases (run_id, owner, token, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, token = excluded.token, heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
      lease.runId,
      lease.owner,
      lease.token,
      lease.heartbeatAt,
      lease.expiresAt,
    );
    return held && held.owner !== owner ? { ok: true, lease, tookOver: held } : { ok: true, lease };
  };
  return write(() => store.transaction(tx));
}

/** Push the lease's expiry on; false when it is no longer ours (another controller took the run over). */
export function renewLease(store: JournalStore, lease: RunLease, now = Date.now()): boolean {
  const renewed = store.get(
    'UPDATE run_leases SET heartbeat_at = ?, expires_at = ? WHERE run_id = ? AND token = ? RETURNING run_id',
    now,
    now + LEASE_TTL_MS,
    lease.runId,
    lease.token,
  );
  if (renewed) Object.assign(lease, { heartbeatAt: now, expiresAt: now + LEASE_TTL_MS });
  return renewed !== undefined;
}

/** Let go of the lease (only if still ours). */
export function releaseLease(store: JournalStore, lease: RunLease, write: <T>(fn: () => T) => T): void {
  write(() => store.run('DELETE FROM run_leases WHERE run_id = ? AND token = ?', lease.runId, lease.token));
}

/** The run leases of one journal, for the executor: the table stays behind the journal's API (Journal.leases()). */
export class RunLeases {
  constructor(
    private readonly store: JournalStore,
    private readonly write: <T>(fn: () => T) => T,
    /** The runs whose lease this process took here and has not let go. */
    private readonly held = new Set<string>(),
  ) {}

  read(runId: string): RunLease | undefined {
    return readLease(this.store, runId);
  }

  /** Leases this process holds. */
  ownedHere(): RunLease[] {
    return leasesOwnedBy(this.store);
  }

  take(runId: string): LeaseOutcome {
    const out = takeLease(this.store, runId, this.write);
    if (out.ok) this.held.add(runId);
    return out;
  }

  renew(lease: RunLease): boolean {
    return renewLease(this.store, lease);
  }

  release(lease: RunLease): void {
    releaseLease(this.store, lease, this.write);
    this.held.delete(lease.runId);
  }
}
