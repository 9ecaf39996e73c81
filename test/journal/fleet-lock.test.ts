import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { SqliteFleetLock } from '../../src/journal/sqlite-fleet-lock.js';

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
    if (!second.ok) expect(second.conflicts.map((c) => [c.host, c.runId])).toEqual([['h2', 'run-1']]);
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
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).fleetLock().acquireHostLocks(`run-${i}`, ['shared', `own-${i}`])),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });
});
