/**
 * The per-host inventory variables `rollgate rollout` reads before any host is contacted (rollgate_cluster,
 * rollgate_max_down, rollgate_window): checked, each problem a ConfigError at the variable's position.
 */
import { ConfigError, type ConfigProblem } from '../core/config-error.js';
import type { Inventory } from '../load/inventory.js';
import type { MaintenanceWindow } from '../strategy/window.js';

/** rollgate_cluster / rollgate_max_down of every host, as ConfigErrors at the variable's position. */
export async function checkClusterCaps(inv: Inventory, hosts: readonly string[]): Promise<void> {
  const { clusterCapOf } = await import('../strategy/cluster.js');
  const problems: ConfigProblem[] = [];
  for (const name of hosts) {
    const h = inv.hosts.get(name)!;
    const cap = clusterCapOf(h.vars);
    if (!cap.ok)
      problems.push({
        ...(h.varOrigins[cap.variable] ? { position: h.varOrigins[cap.variable] } : {}),
        message: `host ${name}: ${cap.message}`,
        hint: cap.hint,
      });
  }
  if (problems.length) throw new ConfigError(problems);
}

/** Each host's rollgate_window, as ConfigErrors at the variable's position. */
export async function hostWindows(inv: Inventory, hosts: readonly string[]): Promise<Map<string, MaintenanceWindow>> {
  const { hostWindowOf } = await import('../strategy/window.js');
  const problems: ConfigProblem[] = [];
  const out = new Map<string, MaintenanceWindow>();
  for (const name of hosts) {
    const h = inv.hosts.get(name);
    if (!h) continue;
    const w = hostWindowOf(h.vars);
    if (w.ok && w.window) out.set(name, w.window);
    if (!w.ok)
      for (const p of w.problems)
        problems.push({
          ...(h.varOrigins.rollgate_window ? { position: h.varOrigins.rollgate_window } : {}),
          message: `host ${name}: rollgate_window: ${p.message}`,
          hint: p.hint,
        });
  }
  if (problems.length) throw new ConfigError(problems);
  return out;
}
