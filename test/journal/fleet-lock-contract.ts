/**
 * What every FleetLock backend must do (SQLite for one controller, PostgreSQL for several), as one suite run
 * against each: `make` gives two controllers' locks on one shared store and a lock with an injected clock.
 */
import { describe, expect, it } from 'vitest';
import type { FleetLock } from '../../src/journal/fleet-lock.js';

export interface ContractStore {
  /** Two controllers (two processes' worth of connections) on the same store. */
  a: FleetLock;
  b: FleetLock;
  /** A lock on the same store whose clock is `now`. */
  clocked(now: () => number): FleetLock;
  done(): Promise<void>;
}

export function fleetLockContract(backend: string, make: () => Promise<ContractStore>): void {
  const use = (fn: (s: ContractStore) => Promise<void>) => async () => {
    const s = await make();
    try {
      await fn(s);
    } finally {
      await s.done();
    }
  };

  describe(`fleet lock contract (${backend})`, () => {
    it(
      'refuses a second run on a host the first run holds, all or nothing',
      use(async ({ a, b }) => {
        expect(await a.acquireHostLocks('run-1', ['h1', 'h2'])).toEqual({ ok: true, hosts: ['h1', 'h2'] });
        const second = await b.acquireHostLocks('run-2', ['h3', 'h2']);
        expect(second.ok).toBe(false);
        if (!second.ok) expect(second.conflicts.map((c) => [c.host, c.held.runId])).toEqual([['h2', 'run-1']]);
        // Nothing of the refused request was taken: h3 is still free.
        expect((await b.listHostLocks()).map((l) => l.host)).toEqual(['h1', 'h2']);
        // The same run may re-acquire (resume); after release the other run gets the host.
        expect((await b.acquireHostLocks('run-1', ['h2'])).ok).toBe(true);
        await a.releaseHostLocks('run-1');
        expect(await b.acquireHostLocks('run-2', ['h3', 'h2'])).toEqual({ ok: true, hosts: ['h3', 'h2'] });
      }),
    );

    it(
      'lets a run take a host whose lock has expired',
      use(async ({ clocked }) => {
        let now = 1_000;
        const lock = clocked(() => now);
        expect((await lock.acquireHostLocks('run-1', ['h1'], { ttlMs: 500 })).ok).toBe(true);
        expect((await lock.acquireHostLocks('run-2', ['h1'])).ok).toBe(false);
        now = 1_600;
        expect(await lock.listHostLocks()).toEqual([]);
        expect((await lock.acquireHostLocks('run-2', ['h1'])).ok).toBe(true);
      }),
    );

    it(
      'caps how many hosts of a cluster are down at once',
      use(async ({ a: la, b: lb }) => {
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
      }),
    );

    it(
      'never lets two concurrent acquirers both win the same host, nor more than maxDown a cluster',
      use(async ({ a, b }) => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).acquireHostLocks(`run-${i}`, ['shared', `own-${i}`])),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        const slots = await Promise.all(
          Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).acquireDownSlot(`run-${i}`, 'rack9', `h${i}`, 3)),
        );
        expect(slots.filter((r) => r.ok)).toHaveLength(3);
      }),
    );

    it(
      'refuses one machine under a second name, to another run and within a run, and releases every identity of a host',
      use(async ({ a: la, b: lb }) => {
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
        expect(twice.ok ? [] : twice.conflicts.map((c) => [c.host, c.held.host, c.sameRun])).toEqual([
          ['b', 'a', true],
        ]);
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
      }),
    );
  });
}
