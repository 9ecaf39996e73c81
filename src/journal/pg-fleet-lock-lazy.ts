/**
 * The fleet lock of a journal kept in PostgreSQL: the shared PostgreSQL lock (pg-fleet-lock.ts) on the journal's
 * own database, loaded on first use so that opening a journal does not load node-postgres for commands that
 * never lock a host.
 */
import type { FleetLock } from './fleet-lock.js';
import type { DatabaseLostError } from './database-lost.js';

/** `lost`: the journal's lost state (a lock on the journal's own database gives up with it). */
export function lazyPgFleetLock(url: string, lost?: () => DatabaseLostError | undefined): FleetLock {
  let lock: Promise<FleetLock> | undefined;
  const get = () => (lock ??= import('./pg-fleet-lock.js').then((m) => new m.PgFleetLock(url, Date.now, lost)));
  return {
    shared: true,
    acquireHostLocks: async (runId, hosts, options) => (await get()).acquireHostLocks(runId, hosts, options),
    releaseHostLocks: async (runId, hosts) => (await get()).releaseHostLocks(runId, hosts),
    listHostLocks: async () => (await get()).listHostLocks(),
    acquireDownSlot: async (runId, cluster, host, maxDown) =>
      (await get()).acquireDownSlot(runId, cluster, host, maxDown),
    releaseDownSlot: async (runId, cluster, host) => (await get()).releaseDownSlot(runId, cluster, host),
    listDownSlots: async (cluster) => (await get()).listDownSlots(cluster),
    breakRun: async (runId) => (await get()).breakRun(runId),
    close: async () => {
      if (lock) await (await lock).close();
    },
  };
}
