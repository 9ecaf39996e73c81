// The one bound on parallel work over hosts (src/executor/pool.ts): the bound holds, and neither an error nor an
// abort leaves a slot taken or work running once the pool has settled.
import { describe, expect, it } from 'vitest';
import { runPool } from '../../src/executor/pool.js';

/** Work that records how many items are in work at once; each item waits until released by the test. */
function gauge() {
  let active = 0;
  let max = 0;
  const started: number[] = [];
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  const work = (item: number) =>
    new Promise<void>((resolve, reject) => {
      active++;
      max = Math.max(max, active);
      started.push(item);
      waiting.set(item, {
        resolve: () => {
          active--;
          resolve();
        },
        reject: (e) => {
          active--;
          reject(e);
        },
      });
    });
  const ticks = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return {
    work,
    started,
    waiting,
    ticks,
    get active() {
      return active;
    },
    get max() {
      return max;
    },
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('runPool', () => {
  it('never has more than `limit` items in work, and fills every slot while items wait', async () => {
    const g = gauge();
    const done = runPool({ limit: 3, items: range(10), work: g.work });
    await g.ticks();
    expect(g.started).toEqual([0, 1, 2]);
    for (let i = 0; i < 10; i++) {
      g.waiting.get(i)!.resolve();
      await g.ticks();
      expect(g.active).toBe(Math.min(3, 10 - i - 1));
    }
    await done;
    expect(g.max).toBe(3);
    expect(g.started).toEqual(range(10));
  });

  it('gives a finished slot to the next item while a slow one still holds its own', async () => {
    const g = gauge();
    const done = runPool({ limit: 2, items: range(5), work: g.work });
    await g.ticks();
    // Item 0 stays in work; 1, 2, 3 go through the other slot one after another.
    for (const i of [1, 2, 3]) {
      g.waiting.get(i)!.resolve();
      await g.ticks();
      expect(g.active).toBe(2);
    }
    expect(g.started).toEqual([0, 1, 2, 3, 4]);
    g.waiting.get(4)!.resolve();
    g.waiting.get(0)!.resolve();
    await done;
  });

  it('after an error starts nothing more, waits for the items in work, then throws it: nothing runs after', async () => {
    const g = gauge();
    let settled = false;
    const done = runPool({ limit: 3, items: range(10), work: g.work }).finally(() => (settled = true));
    const caught = done.catch((e: unknown) => e);
    await g.ticks();
    g.waiting.get(1)!.reject(new Error('bug on host 1'));
    await g.ticks();
    // The failed item's slot is not handed on, and the pool does not settle while 0 and 2 are in work.
    expect(g.started).toEqual([0, 1, 2]);
    expect(settled).toBe(false);
    g.waiting.get(0)!.resolve();
    g.waiting.get(2)!.resolve();
    expect(await caught).toEqual(new Error('bug on host 1'));
    expect(g.active).toBe(0);
    await g.ticks();
    expect(g.started).toEqual([0, 1, 2]);
  });

  it('after an abort starts nothing more and resolves once the items in work finish', async () => {
    const g = gauge();
    const stop = new AbortController();
    const done = runPool({ limit: 2, items: range(6), work: g.work, signal: stop.signal });
    await g.ticks();
    stop.abort('SIGINT');
    g.waiting.get(0)!.resolve();
    await g.ticks();
    expect(g.started).toEqual([0, 1]);
    g.waiting.get(1)!.resolve();
    await done;
    expect(g.active).toBe(0);
  });

  it('asks a handing-out function again only when a slot is free, and stops when it says no more', async () => {
    const g = gauge();
    const queue = range(6);
    let asked = 0;
    const done = runPool({
      limit: 2,
      items: () => {
        asked++;
        return queue[0] === 3 ? undefined : queue.shift(); // a stop rule: nothing from item 3 on
      },
      work: g.work,
    });
    await g.ticks();
    expect(asked).toBe(2);
    g.waiting.get(0)!.resolve();
    await g.ticks();
    g.waiting.get(1)!.resolve();
    g.waiting.get(2)!.resolve();
    await done;
    expect(g.started).toEqual([0, 1, 2]);
    expect(queue).toEqual([3, 4, 5]);
    expect(g.max).toBe(2);
  });

  it('counts a limit below 1 as 1, and gives each item its index', async () => {
    const seen: Array<[string, number]> = [];
    let active = 0;
    let max = 0;
    await runPool({
      limit: 0,
      items: ['a', 'b', 'c'],
      work: async (item, index) => {
        max = Math.max(max, ++active);
        await new Promise((r) => setImmediate(r));
        seen.push([item, index]);
        active--;
      },
    });
    expect(max).toBe(1);
    expect(seen).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
    ]);
  });
});
