/**
 * A PostgreSQL server (the journal's, or the fleet lock's) that goes away while a command works. A brief outage
 * (the server restarted, the connection terminated) is ridden out: the connection is opened again and what had
 * not run, or may safely run twice, runs again, with backoff, for at most `RECONNECT_BOUND_MS`. Past that, or
 * when a write was in flight and whether it was stored is unknown, DatabaseLostError stops the command before its
 * next change: every change is journaled with its undo record before it is applied, so no change starts without
 * one, and `rollgate resume` / `undo` finish the run from the journal once the server is back (docs/safety.md).
 */

/**
 * How long a statement or transaction may wait for its server to come back, in milliseconds: well under a run
 * lease's lifetime (run-lease.ts), whose heartbeat cannot beat while the synchronous journal waits.
 */
export const RECONNECT_BOUND_MS = 20_000;

/** The wait before attempt `attempt` (0: none; then 100 ms doubling, at most 2 s). */
export function reconnectDelay(attempt: number): number {
  return attempt === 0 ? 0 : Math.min(100 * 2 ** (attempt - 1), 2_000);
}

export type LostDatabase = 'journal' | 'fleet lock';

/** The server could not be reached again within the bound, or a write's outcome was lost with its connection. */
export class DatabaseLostError extends Error {
  override readonly name = 'DatabaseLostError';
  constructor(
    /** Which database: the journal, or a fleet lock kept apart from it. */
    readonly what: LostDatabase,
    /** Its URL without the password. */
    readonly where: string,
    /** What went wrong, without the password. */
    readonly problem: string,
  ) {
    super(`the ${what} ${where} ${problem}`);
  }
}

/** A connection lost, a server shutting down or starting up, as node-postgres reports it (the fleet lock). */
export function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^(08|57P0[123])/.test(code)) return true; // connection exception; admin / crash shutdown, cannot connect now
  if (['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code))
    return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(
    message,
  );
}

/** One line of a libpq or node-postgres message. */
export function oneLine(message: string): string {
  return message.replace(/\s+/g, ' ').trim();
}
