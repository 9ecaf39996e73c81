/**
 * A host's variables with Ansible's precedence (ansible-core 2.14 VariableManager.get_vars, default
 * VARIABLE_PRECEDENCE), lowest first:
 *   1. `all`'s vars from inventory files
 *   2. every other group of the host from inventory files, groups sorted by (depth, priority, name)
 *   3. group_vars/all beside each inventory source, sources in order
 *   4. group_vars/GROUP for each source, then each group in the same sort
 *   5. the host's own vars from inventory files
 *   6. host_vars/HOST for each source
 * Depth is the longest chain of parents from `all`, so a child group beats its parent.
 */
import type { GroupDraft, InventoryDraft } from './inventory-data.js';
import { hostGroups } from './inventory-data.js';
import { byCodePoint, mergeLayers, type VarsLayer } from './group-vars.js';
import { InternalError } from '../core/internal-error.js';

export type VarsReader = (dir: string, kind: 'group_vars' | 'host_vars', name: string) => VarsLayer;

/** Each group's depth: 0 for `all`, else one more than its deepest parent. */
export function groupDepths(draft: InventoryDraft): Map<string, number> {
  const depths = new Map<string, number>();
  const depthOf = (name: string, visiting: Set<string>): number => {
    const known = depths.get(name);
    if (known !== undefined) return known;
    if (visiting.has(name)) return 0; // loops are reported elsewhere
    visiting.add(name);
    const parents = draft.groups.get(name)?.parents ?? [];
    const d = name === 'all' ? 0 : Math.max(0, ...parents.map((p) => depthOf(p, visiting) + 1));
    visiting.delete(name);
    depths.set(name, d);
    return d;
  };
  for (const name of draft.groups.keys()) depthOf(name, new Set());
  return depths;
}

/** Ansible's sort_groups: by depth, then ansible_group_priority, then name. */
export function sortGroups(groups: GroupDraft[], depths: Map<string, number>): GroupDraft[] {
  return [...groups].sort(
    (a, b) =>
      (depths.get(a.name) ?? 0) - (depths.get(b.name) ?? 0) || a.priority - b.priority || byCodePoint(a.name, b.name),
  );
}

function inventoryLayer(vars: Record<string, unknown>, origins: VarsLayer['origins']): VarsLayer {
  return { vars, origins };
}

/** The directories whose group_vars/ and host_vars/ apply: each source's own (a directory) or its parent. */
export type VarsDirs = string[];

/** The host's merged variables and where each effective one was set. */
export function hostVarsLayer(
  draft: InventoryDraft,
  hostName: string,
  depths: Map<string, number>,
  varsDirs: VarsDirs,
  read: VarsReader,
): VarsLayer {
  const host = draft.hosts.get(hostName);
  const all = draft.groups.get('all');
  if (!host || !all) throw new InternalError(`unknown host ${hostName}`);
  const groups = sortGroups(
    [...hostGroups(draft, hostName)].filter((g) => g !== 'all').map((g) => draft.groups.get(g) as GroupDraft),
    depths,
  );
  const layers: VarsLayer[] = [inventoryLayer(all.vars, all.varOrigins)];
  for (const g of groups) layers.push(inventoryLayer(g.vars, g.varOrigins));
  for (const dir of varsDirs) layers.push(read(dir, 'group_vars', 'all'));
  for (const dir of varsDirs) for (const g of groups) layers.push(read(dir, 'group_vars', g.name));
  layers.push(inventoryLayer(host.vars, host.varOrigins));
  for (const dir of varsDirs) layers.push(read(dir, 'host_vars', hostName));
  return mergeLayers(layers);
}

/** A group's own variables as `ansible-inventory --export` shows them: inventory files, then group_vars/. */
export function groupVarsLayer(group: GroupDraft, varsDirs: VarsDirs, read: VarsReader): VarsLayer {
  return mergeLayers([
    inventoryLayer(group.vars, group.varOrigins),
    ...varsDirs.map((dir) => read(dir, 'group_vars', group.name)),
  ]);
}
