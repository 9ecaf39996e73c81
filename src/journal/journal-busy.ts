/**
 * Another process holding the journal's write lock (a second controller, a `sqlite3` shell with an open
 * transaction, a backup) must make a run wait, not crash it. SQLite's busy handler waits `BUSY_SLICE_MS` per
 * attempt; writes are retried around it until `BUSY_BOUND_MS` have passed, then JournalBusyError says what holds
 * the run up. Synchronous like the journal itself: a row is on disk when the call returns.
 */

/** How long SQLite's own busy handler waits inside one attempt, in milliseconds. */
export const BUSY_SLICE_MS = 2_000;

/**
 * How long a write may wait for the journal in all, in milliseconds. Well under the run lease's lifetime
 * (run-lease.ts): the lease cannot be renewed while the controller waits here.
 */
export const BUSY_BOUND_MS = 30_000;

/** The journal stayed locked by another process for longer than the bound. */
export class JournalBusyError extends Error {
  override readonly name = 'JournalBusyError';
  constructor(
    readonly path: string,
    readonly waitedMs: number,
  ) {
    super(
      `the journal ${path} stayed locked by another process for ${Math.round(waitedMs / 1000)} s ` +
        '(another rollgate writing, or a sqlite3 shell or backup holding a transaction open); ' +
        'close that process, then `rollgate runs` shows where the run stopped (resume or undo it from there)',
    );
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Block this thread for `ms` milliseconds (the journal is synchronous; so is waiting for it). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED ...: another connection holds what this one needs. */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Run `fn` (one statement or one transaction), again and again while the database is busy, for at most
 * `boundMs` in all. `onWait` is told once, the first time it has to wait.
 */
export function retryBusy<T>(path: string, fn: () => T, onWait?: () => void, boundMs = BUSY_BOUND_MS): T {
  const started = Date.now();
  let told = false;
  // Bounded by the deadline; each attempt is itself bounded by SQLite's busy timeout.
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err)) throw err;
      const waited = Date.now() - started;
      if (waited >= boundMs) throw new JournalBusyError(path, waited);
      if (!told) onWait?.();
      told = true;
      sleepSync(Math.min(50 * 2 ** Math.min(attempt, 4), Math.max(1, boundMs - waited)));
    }
  }
}
