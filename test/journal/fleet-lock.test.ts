import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { SqliteFleetLock } from '../../src/journal/sqlite-fleet-lock.js';
import { LATEST_VERSION, migrate, migrations } from '../../src/journal/migrations/index.js';
import Database from 'better-sqlite3';
import { fleetLockContract } from './fleet-lock-contract.js';

const opened: Journal[] = [];
let dir = '';
function twoControllers(): [Journal, Journal] {
  dir = mkdtempSync(join(tmpdir(), 'rg-lock-'));
  const a = Journal.open(join(dir, 'j.db'));
  const b = Journal.open(join(dir, 'j.db'));
  opened.push(a, b);
  return [a, b];
}
afterEach(() => {
  for (const j of opened.splice(0)) j.close();
  rmSync(dir, { recursive: true, force: true });
});

fleetLockContract('SQLite journal, two controllers on one file', async () => {
  const [a, b] = twoControllers();
  return {
    a: a.fleetLock(),
    b: b.fleetLock(),
    clocked: (now) => new SqliteFleetLock(a.db, now),
    done: async () => undefined,
  };
});

describe('fleet lock keyed by the machine', () => {
  it('keeps the locks an older journal holds, under their inventory name', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rg-lock-'));
    const path = join(dir, 'old.db');
    const db = new Database(path);
    migrate(db, migrations.slice(0, 1));
    db.prepare('INSERT INTO host_locks (host, run_id, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?, NULL)').run(
      'hv7',
      'old-run',
      'ctl:1',
      1,
    );
    db.close();
    const j = Journal.open(path);
    opened.push(j);
    expect(await j.fleetLock().listHostLocks()).toEqual([
      { host: 'hv7', machine: 'name:hv7', runId: 'old-run', holder: 'ctl:1', acquiredAt: 1, expiresAt: null },
    ]);
    expect(j.db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
  });
});
