/**
 * The journal's store in PostgreSQL, for several controllers sharing one journal: synchronous like the SQLite one
 * (pg-native, node-postgres's libpq binding, whose *Sync calls block this thread), so the Journal's API and every
 * caller stay as they are. Each transaction first takes a transaction-scoped advisory lock, so journal writers of
 * every controller serialize as SQLite's BEGIN IMMEDIATE makes them (a lease taken over by exactly one resume).
 * The schema version lives in `journal_schema`. Errors never carry the connection's password.
 */
import { createRequire } from 'node:module';
import { toNumbered, type JournalStore, type Row, type SqlValue } from './store.js';
import { urlWithoutPassword } from './pg-url.js';

/** The advisory lock every journal transaction holds ('jrnl'; the fleet lock's is another number). */
const JOURNAL_TX_KEY = 0x6a726e6c;

/** The part of pg-native's Client this store uses. */
interface NativeClient {
  connectSync(params: string): void;
  querySync(text: string, values?: Array<string | null>): Row[];
  end(): void;
}

/** The server cannot be reached, or refused the connection: what libpq said, without the password. */
export class PgConnectError extends Error {
  override readonly name = 'PgConnectError';
}

/** A connection string with a connect timeout (libpq's default waits for the OS, minutes for a dropped host). */
function withTimeout(url: string): string {
  if (/[?&]connect_timeout=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}connect_timeout=10`;
}

export class PgStore implements JournalStore {
  readonly kind = 'postgres' as const;
  readonly where: string;
  private open = true;
  private depth = 0;

  private constructor(
    private readonly client: NativeClient,
    private readonly password: string,
    url: string,
  ) {
    this.where = urlWithoutPassword(url);
  }

  /** Connect (synchronously); a server that cannot be reached or refuses throws PgConnectError. */
  static connect(url: string): PgStore {
    const Client = createRequire(import.meta.url)('pg-native') as new () => NativeClient;
    const client = new Client();
    let password = '';
    try {
      password = decodeURIComponent(new URL(url).password);
    } catch {
      password = /^[^:/]+:\/\/[^:@/]*:([^@]*)@/.exec(url)?.[1] ?? '';
    }
    try {
      client.connectSync(withTimeout(url));
    } catch (err) {
      throw new PgConnectError(scrub((err as Error).message, password).trim());
    }
    const store = new PgStore(client, password, url);
    store.exec('SET client_min_messages TO warning'); // libpq prints notices on stderr ("already exists, skipping")
    return store;
  }

  /** One statement with parameters, or (no parameters) libpq's simple query, which takes several statements. */
  private query(sql: string, params: SqlValue[]): Row[] {
    try {
      if (!params.length) return this.client.querySync(sql);
      return this.client.querySync(
        toNumbered(sql),
        params.map((p) => (p === null ? null : String(p))),
      );
    } catch (err) {
      (err as Error).message = scrub((err as Error).message, this.password);
      throw err;
    }
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

  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.query('BEGIN', []);
    this.depth++;
    try {
      this.query('SELECT pg_advisory_xact_lock(?)', [JOURNAL_TX_KEY]);
      const out = fn();
      this.query('COMMIT', []);
      return out;
    } catch (err) {
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
    this.client.end();
    // libpq's binding closes its socket watcher asynchronously, inside the connection object: keep that alive
    // until the event loop has closed it (collected earlier, libuv aborts on a freed handle).
    const client = this.client;
    setImmediate(() => setImmediate(() => void client));
  }
}

/** A message with the password cut out, wherever libpq or the server may have echoed it. */
function scrub(message: string, password: string): string {
  return password ? message.split(password).join('***') : message;
}
