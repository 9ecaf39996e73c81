import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, newRunId } from '../../src/journal/journal.js';
import { migrate, LATEST_VERSION, type Migration } from '../../src/journal/migrations/index.js';
import { resolveJournalPath } from '../../src/journal/journal-path.js';
import { redactSecrets, REDACTED } from '../../src/journal/redact.js';
import { journalContract } from './journal-contract.js';

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-journal-'));
  dirs.push(dir);
  return join(dir, 'sub', 'journal.db');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

journalContract('SQLite', async () => tempDb());

describe('journal in SQLite', () => {
  it('creates the file with WAL mode and the latest schema version', () => {
    const path = tempDb();
    const j = Journal.open(path);
    expect(j.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(j.db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    j.close();
    // Reopening applies nothing and keeps the data.
    const again = Journal.open(path);
    expect(again.db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    again.close();
  });

  it('applies only the migrations above the stored version and refuses a newer schema', () => {
    const db = new Database(':memory:');
    const list: Migration[] = [
      { version: 1, name: 'a', sql: 'CREATE TABLE a (x INTEGER);' },
      { version: 2, name: 'b', sql: 'CREATE TABLE b (y INTEGER);' },
    ];
    expect(migrate(db, list.slice(0, 1))).toEqual([1]);
    expect(migrate(db, list)).toEqual([2]);
    expect(migrate(db, list)).toEqual([]);
    expect(() => migrate(db, list.slice(0, 1))).toThrow(/newer than this rollgate understands/);
    // A failing migration leaves the version where it was.
    const bad: Migration[] = [...list, { version: 3, name: 'bad', sql: 'CREATE TABLE c (z INTEGER); NOT SQL;' }];
    expect(() => migrate(db, bad)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'c'").get()).toBeUndefined();
  });
});

describe('journal helpers', () => {
  it('resolves the journal path from the flag, then ROLLGATE_JOURNAL, then XDG_STATE_HOME, then ~/.local/state', () => {
    expect(resolveJournalPath('/x/j.db', { ROLLGATE_JOURNAL: '/y' })).toBe('/x/j.db');
    expect(resolveJournalPath(undefined, { ROLLGATE_JOURNAL: '/y/j.db' })).toBe('/y/j.db');
    expect(resolveJournalPath(undefined, { XDG_STATE_HOME: '/s' })).toBe('/s/rollgate/journal.db');
    expect(resolveJournalPath(undefined, { HOME: '/home/op' })).toBe('/home/op/.local/state/rollgate/journal.db');
  });

  it('makes sortable run ids and redacts without touching non-secret keys', () => {
    expect(newRunId(new Date(2025, 0, 14, 9, 30, 12))).toMatch(/^20250114-093012-[0-9a-f]{4}$/);
    expect(redactSecrets({ bypass_cache: true, passes: 3, a: { db_password: 'x' } })).toEqual({
      bypass_cache: true,
      passes: 3,
      a: { db_password: REDACTED },
    });
  });
});
