/**
 * Opening the journal's store from what --journal / ROLLGATE_JOURNAL says: a postgresql:// (or postgres://) URL
 * connects to PostgreSQL, anything else is a SQLite file (WAL, full sync, foreign keys). Both are migrated to the
 * latest schema; what makes one unusable becomes a JournalUnusableError saying what to do, never the password.
 */
import Database from 'better-sqlite3';
import { migrate, NewerSchemaError } from './migrations/index.js';
import { BUSY_SLICE_MS, retryBusy } from './journal-busy.js';
import { JournalUnusableError, prepareJournalFiles, unusable } from './journal-file.js';
import { PgConnectError, PgStore } from './pg-store.js';
import { isPostgresUrl, urlWithoutPassword } from './pg-url.js';
import { SqliteStore } from './sqlite-store.js';
import type { JournalStore } from './store.js';

export function openStore(spec: string, onBusyWait?: () => void): JournalStore {
  return isPostgresUrl(spec) ? openPostgres(spec) : openSqlite(spec, onBusyWait);
}

function openSqlite(path: string, onBusyWait?: () => void): JournalStore {
  if (path !== ':memory:') prepareJournalFiles(path);
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    const store = new SqliteStore(db, path);
    db.pragma(`busy_timeout = ${BUSY_SLICE_MS}`); // first: other controllers may hold the file while this one opens it
    retryBusy(
      path,
      () => {
        store.db.pragma('journal_mode = WAL');
        store.db.pragma('synchronous = FULL');
        store.db.pragma('foreign_keys = ON');
        migrate(store);
      },
      onBusyWait,
    );
    return store;
  } catch (err) {
    db?.close();
    throw unusable(path, err);
  }
}

const PG_HINT =
  'check the URL (postgresql://USER@HOST[:PORT]/DATABASE, the password in PGPASSWORD or ~/.pgpass) and that the server is up, ' +
  'or leave --journal and ROLLGATE_JOURNAL unset to keep the journal in a local SQLite file';

function openPostgres(url: string): JournalStore {
  const where = urlWithoutPassword(url);
  let store: PgStore;
  try {
    store = PgStore.connect(url);
  } catch (err) {
    if (!(err instanceof PgConnectError)) throw err;
    throw new JournalUnusableError(
      where,
      `cannot connect to PostgreSQL (${err.message.replace(/\s+/g, ' ')})`,
      PG_HINT,
    );
  }
  try {
    migrate(store);
    return store;
  } catch (err) {
    store.close();
    if (err instanceof NewerSchemaError)
      throw new JournalUnusableError(
        where,
        `its schema version ${err.version} is newer than this rollgate understands (${err.latest}): a newer rollgate wrote it`,
        'upgrade rollgate (every controller sharing the journal needs the newer one)',
      );
    throw err;
  }
}
