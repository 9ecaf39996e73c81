import { describe, expect, it } from 'vitest';
import { Journal } from '../../../src/journal/journal.js';
import { takeDownSlot } from '../../../src/executor/rollout/down-slot.js';

describe('waiting for a cluster down slot', () => {
  it('waits while the cluster is full and takes the slot once another host gives it back', async () => {
    const journal = Journal.open(':memory:');
    const lock = journal.fleetLock();
    const cap = { cluster: 'rack7', maxDown: 1 };
    expect(await lock.acquireDownSlot('run-a', 'rack7', 'hv1', 1)).toEqual({ ok: true });
    const waits: string[][] = [];
    const pending = takeDownSlot(lock, 'run-b', 'hv2', cap, {
      timeoutMs: 5000,
      pollMs: 20,
      onWait: (d) => waits.push(d),
    });
    await new Promise((r) => setTimeout(r, 100));
    await lock.releaseDownSlot('run-a', 'rack7', 'hv1');
    expect(await pending).toEqual({ ok: true });
    expect(waits).toEqual([['hv1 (run run-a)']]);
    expect((await lock.listDownSlots('rack7')).map((s) => s.host)).toEqual(['hv2']);
    journal.close();
  });

  it('gives up after its time limit and says who holds the slots', async () => {
    const journal = Journal.open(':memory:');
    const lock = journal.fleetLock();
    await lock.acquireDownSlot('run-a', 'rack7', 'hv1', 1);
    const out = await takeDownSlot(
      lock,
      'run-b',
      'hv2',
      { cluster: 'rack7', maxDown: 1 },
      { timeoutMs: 60, pollMs: 20 },
    );
    expect(out).toEqual({ ok: false, message: 'cluster rack7 had 1 of 1 host(s) down for 0 s: hv1 (run run-a)' });
    journal.close();
  });
});
