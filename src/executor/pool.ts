/**
 * The one bound on parallel work over hosts: `run`'s fan-out of a task over its hosts (--forks), the fleet runner
 * (`exec`, `check` and its fact collection, `undo`) and a rollout's batch all take their hosts through it. An item
 * holds a slot exactly while its work runs. The first error stops the taking and is thrown once the items in work
 * have finished, so nothing of the pool still runs when it settles (a bug on one host never leaves other hosts'
 * work running behind the caller's back).
 */

export interface PoolWork<T> {
  /** At most this many items in work at once; below 1 (or not a number) counts as 1. */
  limit: number;
  /**
   * The items, in the order they start: a list, or a function handing out the next one (undefined: none left, or
   * a stop rule says no more may start; it is asked again only after an item finishes).
   */
  items: readonly T[] | (() => T | undefined);
  /** The work on one item; `index` counts the items in the order they started (for a list: the item's index). */
  work: (item: T, index: number) => Promise<unknown>;
  /** Once aborted no item starts; the ones in work finish. */
  signal?: AbortSignal;
}

/** Run `work` over the items, at most `limit` at once; resolves when every started item has finished. */
export async function runPool<T>(p: PoolWork<T>): Promise<void> {
  const limit = Number.isFinite(p.limit) && p.limit >= 1 ? Math.floor(p.limit) : 1;
  const next = handOut(p.items);
  let failure: { error: unknown } | undefined;
  let started = 0;
  const take = (): { item: T; index: number } | undefined => {
    if (failure || p.signal?.aborted) return undefined;
    const item = next();
    return item === undefined ? undefined : { item, index: started++ };
  };
  const slot = async (): Promise<void> => {
    for (let t = take(); t; t = take()) {
      try {
        await p.work(t.item, t.index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const width = Array.isArray(p.items) ? Math.min(limit, p.items.length) : limit;
  await Promise.all(Array.from({ length: width }, slot));
  if (failure) throw failure.error;
}

function handOut<T>(items: readonly T[] | (() => T | undefined)): () => T | undefined {
  if (typeof items === 'function') return items;
  let i = 0;
  return () => (i < items.length ? items[i++] : undefined);
}
