/**
 * The journal's store in PostgreSQL, for several controllers sharing one journal: synchronous like the SQLite one
 * (pg-native, node-postgres's libpq binding, whose *Sync calls block this thread), so the Journal's API and every
 * caller stay as they are. Each transaction first takes a transaction-scoped advisory lock, so journal writers of
 * every controller serialize as SQLite's BEGIN IMMEDIATE makes them (a lease taken over by exactly one resume).
 * The schema version lives in `journal_schema`. Errors never carry the connection's password. A server that goes
 * away is reconnected to within a bound, or stops the command (database-lost.ts).
 */
import { createRequire } from 'node:module';
import { toNumbered, type JournalStore, type Row, type SqlValue } from './store.js';
import { urlWithoutPassword } from './pg-url.js';
import { DatabaseLostError, oneLine, reconnectDelay, RECONNECT_BOUND_MS } from './database-lost.js';
import { sleepSync } from './journal-busy.js';

/** The advisory lock every journal transaction holds ('jrnl'; the fleet lock's is another number). */
const JOURNAL_TX_KEY = 0x6a726e6c;
/** libpq's PQTRANS_UNKNOWN: the connection is bad. */
const TRANS_UNKNOWN = 4;

/** The part of pg-native's Client this store uses (`pq`: its libpq connection). */
interface NativeClient {
  connectSync(params: string): void;
  querySync(text: string, values?: Array<string | null>): Row[];
  end(): void;
  pq: { consumeInput(): boolean; transactionStatus(): number; errorMessage(): string };
}

/** The server cannot be reached, or refused the connection: what libpq said, without the password. */
export class PgConnectError extends Error {
  override readonly name = 'PgConnectError';
}

/** Inside a transaction, its connection broke: the server rolled it back (a COMMIT in flight excepted). */
class TransactionBroken extends Error {}

/** A connection string with a connect timeout (libpq's default waits for the OS, minutes for a dropped host). */
function withTimeout(url: string): string {
  if (/[?&]connect_timeout=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}connect_timeout=10`;
}

/** A connected client (synchronously), its session set up; throws what libpq said. */
function openClient(url: string): NativeClient {
  const Client = createRequire(import.meta.url)('pg-native') as new () => NativeClient;
  const client = new Client();
  try {
    client.connectSync(withTimeout(url));
    client.querySync('SET client_min_messages TO warning'); // libpq prints notices on stderr ("already exists, skipping")
    return client;
  } catch (err) {
    endClient(client);
    throw err;
  }
}

function endClient(client: NativeClient): void {
  try {
    client.end();
  } catch {
    // already gone
  }
  // libpq's binding closes its socket watcher asynchronously, inside the connection object: keep that alive
  // until the event loop has closed it (collected earlier, libuv aborts on a freed handle).
  setImmediate(() => setImmediate(() => void client));
}

/**
 * Whether running `sql` again after its outcome was lost with the connection does what running it once did: a
 * read, an UPDATE or DELETE (the journal's set absolute values), an upsert. A plain INSERT (a new step, event,
 * snapshot or run) is not: run twice, it is stored twice.
 */
export function rerunnable(sql: string): boolean {
  const s = sql.trimStart().toUpperCase();
  if (/^(SELECT|UPDATE|DELETE|SET)\b/.test(s)) return true;
  return /^INSERT\b/.test(s) && /\bON CONFLICT\b/.test(s);
}

function passwordOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return /^[^:/]+:\/\/[^:@/]*:([^@]*)@/.exec(url)?.[1] ?? '';
  }
}

export class PgStore implements JournalStore {
  readonly kind = 'postgres' as const;
  readonly where: string;
  /** Told when the connection is found broken and opened again (the CLI prints it); `why` without the password. */
  onReconnect: ((why: string) => void) | undefined;
  private open = true;
  private depth = 0;
  /** Once set, every call throws it: the command stops (database-lost.ts). */
  private lost: DatabaseLostError | undefined;
  private readonly password: string;

  private constructor(
    private client: NativeClient,
    private readonly url: string,
  ) {
    this.where = urlWithoutPassword(url);
    this.password = passwordOf(url);
  }

  /** Connect (synchronously); a server that cannot be reached or refuses throws PgConnectError. */
  static connect(url: string): PgStore {
    try {
      return new PgStore(openClient(url), url);
    } catch (err) {
      throw new PgConnectError(scrub((err as Error).message, passwordOf(url)).trim());
    }
  }

  /**
   * One statement with parameters, or (no parameters) libpq's simple query, which takes several statements. A
   * connection found broken before the statement is sent is opened again (nothing was sent); one that breaks
   * while it is in flight is opened again and the statement re-run only when that is safe (`rerunnable`); inside
   * a transaction, the transaction is re-run from its start (transaction()).
   */
  private query(sql: string, params: SqlValue[]): Row[] {
    if (this.lost) throw this.lost;
    const started = Date.now();
    // Bounded: every pass sends once, and reconnect() gives up RECONNECT_BOUND_MS after `started`.
    for (;;) {
      const closed = this.closedWhileIdle();
      if (closed) {
        if (this.depth > 0) throw new TransactionBroken(closed);
        this.reconnect(started, closed);
        continue;
      }
      try {
        if (!params.length) return this.client.querySync(sql);
        return this.client.querySync(
          toNumbered(sql),
          params.map((p) => (p === null ? null : String(p))),
        );
      } catch (err) {
        const message = scrub((err as Error).message, this.password);
        if (this.client.pq.transactionStatus() !== TRANS_UNKNOWN) {
          (err as Error).message = message; // an error of the statement, on a sound connection
          throw err;
        }
        if (this.depth > 0) throw new TransactionBroken(oneLine(message));
        if (!rerunnable(sql))
          throw this.lose(
            `lost its connection while a write was in flight (${oneLine(message)}): whether it was stored is unknown, and it is not written twice`,
          );
        this.reconnect(started, message);
      }
    }
  }

  /**
   * Why the connection is no longer sound, from what the server sent while it was idle (a FATAL message, then the
   * end of the stream), read without a round trip; undefined while it is sound. Read twice: the first read takes
   * the message, the second the end.
   */
  private closedWhileIdle(): string | undefined {
    const pq = this.client.pq;
    for (let i = 0; i < 2; i++)
      if (!pq.consumeInput() || pq.transactionStatus() === TRANS_UNKNOWN)
        return oneLine(scrub(pq.errorMessage(), this.password)) || 'the connection was closed';
    return undefined;
  }

  /** A new connection, tried with backoff until RECONNECT_BOUND_MS after `started`; then the journal is lost. */
  private reconnect(started: number, why: string): void {
    endClient(this.client);
    let reason = oneLine(why);
    // Bounded: attempts stop RECONNECT_BOUND_MS after `started` (each connect bounded by connect_timeout).
    for (let attempt = 0; ; attempt++) {
      const waited = Date.now() - started;
      const delay = reconnectDelay(attempt);
      if (waited + delay > RECONNECT_BOUND_MS)
        throw this.lose(`cannot be reached (${reason}; tried again for ${Math.round(waited / 1000)} s)`);
      if (attempt === 0) this.onReconnect?.(reason);
      sleepSync(delay);
      try {
        this.client = openClient(this.url);
        return;
      } catch (err) {
        reason = oneLine(scrub((err as Error).message, this.password));
      }
    }
  }

  /** Set once the journal is lost: every later call throws it. */
  get lostError(): DatabaseLostError | undefined {
    return this.lost;
  }

  private lose(problem: string): DatabaseLostError {
    this.lost = new DatabaseLostError('journal', this.where, problem);
    return this.lost;
  }

  run(sql: string, ...params: SqlValue[]): void {
    this.query(sql, params);
  }

  get(sql: string, ...params: SqlValue[]): Row | undefined {
    return this.query(sql, params)[0];
  }

  all(sql: string, ...params: SqlValue[]): Row[] {
    return this.query(sql, params);
  }

  exec(sql: string): void {
    this.query(sql, []);
  }

  /**
   * `fn` in one transaction under the journal's advisory lock. A connection that breaks before COMMIT is sent
   * rolled the transaction back: it runs again, from BEGIN, on a new connection (within RECONNECT_BOUND_MS). One
   * that breaks while COMMIT is in flight leaves it unknown whether the transaction was stored: not run twice,
   * the journal is lost.
   */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    const started = Date.now();
    // Bounded: a re-run only follows a reconnect, which gives up RECONNECT_BOUND_MS after `started`.
    for (;;) {
      this.query('BEGIN', []);
      this.depth++;
      let committing = false;
      try {
        this.query('SELECT pg_advisory_xact_lock(?)', [JOURNAL_TX_KEY]);
        const out = fn();
        committing = true;
        this.query('COMMIT', []);
        return out;
      } catch (err) {
        if (err instanceof TransactionBroken) {
          if (committing)
            throw this.lose(
              `lost its connection while a transaction was committing (${err.message}): whether it was stored is unknown, and it is not run twice`,
            );
          this.reconnect(started, err.message);
          continue;
        }
        try {
          this.query('ROLLBACK', []);
        } catch {
          // the connection is gone; the server rolls back on its own
        }
        throw err;
      } finally {
        this.depth--;
      }
    }
  }

  schemaVersion(): number {
    // Created under the transaction's advisory lock: CREATE TABLE IF NOT EXISTS alone races between controllers.
    return this.transaction(() => {
      this.exec('CREATE TABLE IF NOT EXISTS journal_schema (version INTEGER NOT NULL)');
      const row = this.get('SELECT version FROM journal_schema');
      if (row) return Number(row.version);
      this.run('INSERT INTO journal_schema (version) VALUES (0)');
      return 0;
    });
  }

  setSchemaVersion(version: number): void {
    this.run('UPDATE journal_schema SET version = ?', version);
  }

  get isOpen(): boolean {
    return this.open;
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    endClient(this.client);
  }
}

/** A message with the password cut out, wherever libpq or the server may have echoed it. */
function scrub(message: string, password: string): string {
  return password ? message.split(password).join('***') : message;
}
