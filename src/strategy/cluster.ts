/**
 * The cluster down-slot cap, from inventory variables (like Kured's lock, but per cluster): hosts that share
 * `rollgate_cluster` may be down (changed and rebooted) at most `rollgate_max_down` at a time, across every run
 * on the journal's database. Pure: (host variables) -> setting or problem.
 *
 *   all:
 *     children:
 *       rack7: {vars: {rollgate_cluster: rack7, rollgate_max_down: 1}, hosts: {...}}
 */

export interface ClusterCap {
  cluster: string;
  /** Hosts of the cluster down at once, at least 1. */
  maxDown: number;
}

export type ClusterSetting =
  { ok: true; cap: ClusterCap | null } | { ok: false; variable: string; message: string; hint: string };

export function clusterCapOf(vars: Record<string, unknown>): ClusterSetting {
  const cluster = vars.rollgate_cluster;
  const max = vars.rollgate_max_down;
  if (cluster === undefined || cluster === null) {
    if (max !== undefined)
      return {
        ok: false,
        variable: 'rollgate_max_down',
        message: 'rollgate_max_down is set without rollgate_cluster',
        hint: 'name the cluster the cap applies to: `rollgate_cluster: rack7`',
      };
    return { ok: true, cap: null };
  }
  if (typeof cluster !== 'string' || cluster.trim() === '')
    return {
      ok: false,
      variable: 'rollgate_cluster',
      message: `rollgate_cluster must be a non-empty string, not ${JSON.stringify(cluster)}`,
      hint: 'e.g. `rollgate_cluster: rack7`',
    };
  const n = max === undefined ? 1 : typeof max === 'string' && /^\d+$/.test(max) ? Number(max) : max;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
    return {
      ok: false,
      variable: 'rollgate_max_down',
      message: `rollgate_max_down must be a whole number of hosts ≥ 1, not ${JSON.stringify(max)}`,
      hint: 'e.g. `rollgate_max_down: 1` (the default when rollgate_cluster is set)',
    };
  return { ok: true, cap: { cluster: cluster.trim(), maxDown: n } };
}
