import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { SqliteFleetLock } from '../../src/journal/sqlite-fleet-lock.js';
import { LATEST_VERSION, migrate, migrations } from '../../src/journal/migrations/index.js';
import Database from 'better-sqlite3';

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

describe('fleet lock on the journal database', () => {
  it('refuses a second run on a host the first run holds, all or nothing', async () => {
    const [a, b] = twoControllers();
    expect(await a.fleetLock().acquireHostLocks('run-1', ['h1', 'h2'])).toEqual({ ok: true, hosts: ['h1', 'h2'] });
    const second = await b.fleetLock().acquireHostLocks('run-2', ['h3', 'h2']);
    expect(second.ok).toBe(false);
    if (!second.ok) expect(second.conflicts.map((c) => [c.host, c.held.runId])).toEqual([['h2', 'run-1']]);
    // Nothing of the refused request was taken: h3 is still free.
    expect((await b.fleetLock().listHostLocks()).map((l) => l.host)).toEqual(['h1', 'h2']);
    // The same run may re-acquire (resume); after release the other run gets the host.
    expect((await b.fleetLock().acquireHostLocks('run-1', ['h2'])).ok).toBe(true);
    await a.fleetLock().releaseHostLocks('run-1');
    expect(await b.fleetLock().acquireHostLocks('run-2', ['h3', 'h2'])).toEqual({ ok: true, hosts: ['h3', 'h2'] });
  });

  it('lets a run take a host whose lock has expired', async () => {
    const [a] = twoControllers();
    let now = 1_000;
    const lock = new SqliteFleetLock(a.db, () => now);
    expect((await lock.acquireHostLocks('run-1', ['h1'], { ttlMs: 500 })).ok).toBe(true);
    expect((await lock.acquireHostLocks('run-2', ['h1'])).ok).toBe(false);
    now = 1_600;
    expect(await lock.listHostLocks()).toEqual([]);
    expect((await lock.acquireHostLocks('run-2', ['h1'])).ok).toBe(true);
  });

  it('caps how many hosts of a cluster are down at once', async () => {
    const [a, b] = twoControllers();
    const la = a.fleetLock();
    const lb = b.fleetLock();
    expect(await la.acquireDownSlot('run-1', 'rack1', 'h1', 2)).toEqual({ ok: true });
    expect(await la.acquireDownSlot('run-1', 'rack1', 'h1', 2)).toEqual({ ok: true });
    expect(await lb.acquireDownSlot('run-2', 'rack1', 'h2', 2)).toEqual({ ok: true });
    const third = await lb.acquireDownSlot('run-2', 'rack1', 'h3', 2);
    expect(third.ok).toBe(false);
    if (!third.ok) expect(third.down.map((d) => d.host)).toEqual(['h1', 'h2']);
    expect(await lb.acquireDownSlot('run-2', 'rack2', 'h3', 1)).toEqual({ ok: true });
    await la.releaseDownSlot('run-1', 'rack1', 'h1');
    expect(await lb.acquireDownSlot('run-2', 'rack1', 'h3', 2)).toEqual({ ok: true });
    await lb.breakRun('run-2');
    expect(await la.listDownSlots()).toEqual([]);
  });

  it('never lets two concurrent acquirers both win the same host', async () => {
    const [a, b] = twoControllers();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).fleetLock().acquireHostLocks(`run-${i}`, ['shared', `own-${i}`]),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });
});

describe('fleet lock keyed by the machine', () => {
  it('refuses one machine under a second name, to another run and within a run, and releases every identity of a host', async () => {
    const [a, b] = twoControllers();
    const la = a.fleetLock();
    const lb = b.fleetLock();
    expect((await la.acquireHostLocks('run-1', [{ host: 'hv1', machine: 'addr:10.0.0.1:22' }])).ok).toBe(true);
    const other = await lb.acquireHostLocks('run-2', [{ host: 'hv1-mgmt', machine: 'addr:10.0.0.1:22' }]);
    expect(other.ok ? [] : other.conflicts.map((c) => [c.host, c.held.host, c.held.runId, c.sameRun])).toEqual([
      ['hv1-mgmt', 'hv1', 'run-1', false],
    ]);
    // Two names of one run for the same machine, in one request or one after the other.
    const twice = await lb.acquireHostLocks('run-3', [
      { host: 'a', machine: 'addr:10.0.0.9:22' },
      { host: 'b', machine: 'addr:10.0.0.9:22' },
    ]);
    expect(twice.ok ? [] : twice.conflicts.map((c) => [c.host, c.held.host, c.sameRun])).toEqual([['b', 'a', true]]);
    expect(await lb.listHostLocks()).toHaveLength(1);
    expect((await la.acquireHostLocks('run-1', [{ host: 'hv1', machine: 'key:SHA256:aaa' }])).ok).toBe(true);
    const second = await la.acquireHostLocks('run-1', [{ host: 'hv2', machine: 'key:SHA256:aaa' }]);
    expect(second.ok ? [] : second.conflicts.map((c) => [c.host, c.held.host, c.sameRun])).toEqual([
      ['hv2', 'hv1', true],
    ]);
    // The same host again (resume, a reconnect) is no conflict.
    expect((await la.acquireHostLocks('run-1', [{ host: 'hv1', machine: 'key:SHA256:aaa' }])).ok).toBe(true);
    expect((await la.listHostLocks()).map((l) => [l.host, l.machine])).toEqual([
      ['hv1', 'addr:10.0.0.1:22'],
      ['hv1', 'key:SHA256:aaa'],
    ]);
    await la.releaseHostLocks('run-1', ['hv1']);
    expect(await la.listHostLocks()).toEqual([]);
  });

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
