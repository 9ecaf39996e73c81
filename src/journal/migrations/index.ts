/**
 * Journal schema migrations, applied in order inside one transaction each. The schema version is SQLite's
 * `PRAGMA user_version`. Add a migration as a new file and a new entry; never edit a released one.
 */
import type Database from 'better-sqlite3';
import { sql as initial } from './001-initial.js';
import { sql as leasesAndMachineLocks } from './002-run-leases-and-machine-locks.js';
import { sql as undoKinds } from './003-undo-kinds.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'run leases and machine locks', sql: leasesAndMachineLocks },
  { version: 3, name: 'undo-kinds', sql: undoKinds },
];

/** The journal was written by a newer rollgate: its schema is past the newest migration this one knows. */
export class NewerSchemaError extends Error {
  override readonly name = 'NewerSchemaError';
  constructor(
    readonly version: number,
    readonly latest: number,
  ) {
    super(`journal schema version ${version} is newer than this rollgate understands (${latest}); upgrade rollgate`);
  }
}

export const LATEST_VERSION = migrations.reduce((max, m) => Math.max(max, m.version), 0);

/** Bring the database to the latest schema; returns the versions applied. */
export function migrate(db: Database.Database, list: readonly Migration[] = migrations): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = list.reduce((max, m) => Math.max(max, m.version), 0);
  if (current > latest) {
    throw new NewerSchemaError(current, latest);
  }
  const applied: number[] = [];
  for (const m of [...list].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    // Re-read under the write lock: another controller opening the same file may have migrated meanwhile.
    const done = db
      .transaction(() => {
        if ((db.pragma('user_version', { simple: true }) as number) >= m.version) return false;
        db.exec(m.sql);
        db.pragma(`user_version = ${m.version}`);
        return true;
      })
      .immediate();
    if (done) applied.push(m.version);
  }
  return applied;
}
