/**
 * The fleet runner: run one async function per host with bounded concurrency, over one SSH connection per host,
 * and report every host's outcome as a value. `check`, `run`, `exec` and the rollout's batches are built on it.
 *
 *   const outcomes = await runOnFleet(targets, async (conn) => conn.exec(sh`uname -r`), {
 *     bus, forks: 50, failed: (r) => (r.exitCode === 0 ? undefined : `exit status ${r.exitCode}`),
 *   });
 *
 * Outcomes come back in the order of `targets`. A connection that cannot be opened makes the host
 * `unreachable` with the ConnectionError's kind; inside the work function a dropped connection is also
 * `unreachable`, a command timeout or a sudo refusal is `failed` with that kind, and any other exception is
 * `failed` with kind `error`. Events: fleet.started, host.connecting, host.connected | host.failed,
 * command.started/finished for every exec, host.finished, fleet.finished.
 */
import { ConnectionError, type Connection, type ConnectionFailureKind } from '../connection/connection.js';
import type { SshTarget } from '../connection/target.js';
import type { EventBus, HostStatus } from '../events/events.js';
import { openSsh, sharedConnections, type Opener, type SharedConnections } from './connections.js';
import { instrument } from './instrumented-connection.js';
import { runPool } from './pool.js';

/**
 * Why a host did not end `ok`: a connection failure kind, `command` (the work judged its result failed), `error`,
 * or `stopped` (the run was interrupted before this host's turn; nothing was done on it).
 */
export type HostFailureKind = ConnectionFailureKind | 'command' | 'error' | 'stopped';

export interface HostOutcome<T> {
  host: string;
  status: HostStatus;
  /** What the work function returned (also present when `failed` judged it a failure). */
  value?: T;
  kind?: HostFailureKind;
  message?: string;
  /** Whether running again later can help (false for host_key, auth, become). */
  retryable?: boolean;
  /** Time to open the connection, in milliseconds (absent when it failed). */
  connectMs?: number;
  /** Wall time for this host from the start of its connection, in milliseconds. */
  ms: number;
}

export interface FleetOptions<T> {
  /** Hosts worked on at once. Default 50. */
  forks?: number;
  /** Where events go. Default: nowhere. */
  bus?: EventBus;
  /** Judge a returned value: a message makes the host `failed` with kind `command`. Default: every value is ok. */
  failed?: (value: T) => string | undefined;
  /** How connections are opened (./connections.ts). Default ssh2, with a known_hosts store and bastions shared by the run. */
  open?: Opener;
  /** Once aborted, hosts not started yet are not started (failed, kind `stopped`); those in flight finish. */
  stop?: AbortSignal;
}

/** The work done on one host. Throw ConnectionError for connection trouble; return a value for everything else. */
export type HostWork<T> = (conn: Connection, target: SshTarget) => Promise<T>;

function failure<T>(
  host: string,
  status: HostStatus,
  kind: HostFailureKind,
  message: string,
  retryable: boolean,
  started: number,
): HostOutcome<T> {
  return { host, status, kind, message, retryable, ms: Date.now() - started };
}

async function runHost<T>(
  target: SshTarget,
  work: HostWork<T>,
  options: FleetOptions<T>,
  shared: SharedConnections,
): Promise<HostOutcome<T>> {
  const { bus } = options;
  const started = Date.now();
  bus?.emit({ type: 'host.connecting', at: started, host: target.name });
  let conn: (Connection & { connectMs?: number }) | undefined;
  try {
    conn = await (options.open ?? openSsh)(target, shared);
  } catch (err) {
    if (!(err instanceof ConnectionError)) throw err;
    bus?.emit({ type: 'host.failed', at: Date.now(), host: target.name, kind: err.kind, message: err.message });
    // A machine refused by the lock was reached: it is not unreachable, it was not touched.
    return failure(
      target.name,
      err.kind === 'locked' ? 'failed' : 'unreachable',
      err.kind,
      err.message,
      err.retryable,
      started,
    );
  }
  const connectMs = conn.connectMs ?? Date.now() - started;
  bus?.emit({ type: 'host.connected', at: Date.now(), host: target.name, ms: connectMs });
  try {
    const value = await work(bus ? instrument(conn, bus) : conn, target);
    const message = options.failed?.(value);
    const outcome: HostOutcome<T> = {
      host: target.name,
      status: message === undefined ? 'ok' : 'failed',
      value,
      connectMs,
      ms: Date.now() - started,
    };
    if (message !== undefined) Object.assign(outcome, { kind: 'command', message, retryable: false });
    return outcome;
  } catch (err) {
    if (err instanceof ConnectionError) {
      const status = err.kind === 'dropped' ? 'unreachable' : 'failed';
      return { ...failure<T>(target.name, status, err.kind, err.message, err.retryable, started), connectMs };
    }
    const message = err instanceof Error ? err.message : String(err);
    return { ...failure<T>(target.name, 'failed', 'error', message, false, started), connectMs };
  } finally {
    await conn.close();
  }
}

/** Run `work` on every target, at most `forks` at a time. Never rejects for a host's failure. */
export async function runOnFleet<T>(
  targets: readonly SshTarget[],
  work: HostWork<T>,
  options: FleetOptions<T> = {},
): Promise<HostOutcome<T>[]> {
  const { bus } = options;
  const forks = Math.max(1, Math.min(options.forks ?? 50, targets.length || 1));
  const started = Date.now();
  bus?.emit({ type: 'fleet.started', at: started, hosts: targets.map((t) => t.name), forks });
  const shared = sharedConnections();
  const outcomes = new Array<HostOutcome<T>>(targets.length);
  const turn = async (target: SshTarget, index: number) => {
    const outcome = options.stop?.aborted
      ? failure<T>(target.name, 'failed', 'stopped', `not started: ${String(options.stop.reason)}`, true, Date.now())
      : await runHost(target, work, options, shared);
    outcomes[index] = outcome;
    const event = {
      type: 'host.finished',
      at: Date.now(),
      host: outcome.host,
      status: outcome.status,
      ms: outcome.ms,
    } as const;
    bus?.emit({
      ...event,
      ...(outcome.kind ? { kind: outcome.kind } : {}),
      ...(outcome.message ? { message: outcome.message } : {}),
    });
  };
  try {
    // Every target gets an outcome: one not started once `stop` is aborted says so.
    await runPool({ limit: forks, items: targets, work: turn });
  } finally {
    await shared.jumps.closeAll();
  }
  const count = (s: HostStatus) => outcomes.filter((o) => o.status === s).length;
  bus?.emit({
    type: 'fleet.finished',
    at: Date.now(),
    ok: count('ok'),
    failed: count('failed'),
    unreachable: count('unreachable'),
    ms: Date.now() - started,
  });
  return outcomes;
}
