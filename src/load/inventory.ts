/**
 * Ansible-compatible inventories: YAML and INI files, a directory of them, or a comma-separated host list,
 * several sources merged in order, with group_vars/ and host_vars/ beside each source and Ansible's variable
 * precedence. Every problem in every source is collected and thrown as one ConfigError before any host is
 * contacted.
 */
import type { SourcePosition } from '../core/config-error.js';
import { ConfigError } from '../core/config-error.js';
import { createDraft, hostGroups, reconcile, type InventoryDraft } from './inventory-data.js';
import { byCodePoint, createVarsReader } from './group-vars.js';
import { hostVarProblems } from './host-var-check.js';
import { groupDepths, groupVarsLayer, hostVarsLayer } from './var-precedence.js';
import { readSource, varsDirOf } from './inventory-source.js';

/** One host with its merged variables. */
export interface InventoryHost {
  name: string;
  /** The host's variables merged with Ansible's precedence (what ansible-inventory shows in _meta.hostvars). */
  vars: Record<string, unknown>;
  /** Every group the host is in, through parents too, sorted; `all` left out (Ansible's `group_names`). */
  groups: string[];
  /** Where the host is first declared. */
  origin: SourcePosition;
  /** Where each variable in `vars` got its effective value. */
  varOrigins: Record<string, SourcePosition>;
}

export interface InventoryGroup {
  name: string;
  /** Hosts listed directly in this group (not through children), in the order first listed. */
  hosts: string[];
  /** Child groups, in the order added. */
  children: string[];
  /** The group's own variables: inventory files, then group_vars/ files (as `ansible-inventory --export`). */
  vars: Record<string, unknown>;
  varOrigins: Record<string, SourcePosition>;
  /** ansible_group_priority, default 1. */
  priority: number;
  /** Longest chain of parents from `all` (0 for `all`). */
  depth: number;
}

export interface Inventory {
  /** The sources as given, in order. */
  sources: string[];
  /** Hosts in the order first declared. */
  hosts: Map<string, InventoryHost>;
  /** Groups in the order first declared, starting with `all` and `ungrouped`. */
  groups: Map<string, InventoryGroup>;
}

/** Build the final inventory from a reconciled draft (pure apart from reading vars files). */
function finish(draft: InventoryDraft, sources: string[]): Inventory {
  const varsDirs = sources.map(varsDirOf).filter((d): d is string => d !== undefined);
  const read = createVarsReader(draft.problems);
  const depths = groupDepths(draft);
  const hosts = new Map<string, InventoryHost>();
  for (const h of draft.hosts.values()) {
    const layer = hostVarsLayer(draft, h.name, depths, varsDirs, read);
    hosts.set(h.name, {
      name: h.name,
      vars: layer.vars,
      varOrigins: layer.origins,
      origin: h.origin,
      groups: groupNames(draft, h.name),
    });
  }
  const groups = new Map<string, InventoryGroup>();
  for (const g of draft.groups.values()) {
    const layer = groupVarsLayer(g, varsDirs, read);
    groups.set(g.name, {
      name: g.name,
      hosts: [...g.hosts],
      children: [...g.children],
      vars: layer.vars,
      varOrigins: layer.origins,
      priority: g.priority,
      depth: depths.get(g.name) ?? 0,
    });
  }
  return { sources, hosts, groups };
}

function groupNames(draft: InventoryDraft, host: string): string[] {
  return [...hostGroups(draft, host)].filter((g) => g !== 'all').sort(byCodePoint);
}

/** Load one or more inventory sources (files, directories or `h1,h2` lists); throws ConfigError listing every problem. */
export function loadInventory(paths: string | string[]): Inventory {
  const sources = Array.isArray(paths) ? paths : [paths];
  const draft = createDraft();
  if (sources.length === 0)
    draft.problems.push({ message: 'no inventory given', hint: 'pass one with -i, e.g. `-i inventory/hosts.yml`' });
  for (const source of sources) readSource(draft, source);
  if (draft.problems.length === 0) reconcile(draft);
  if (draft.problems.length > 0) throw new ConfigError(draft.problems);
  const inventory = finish(draft, sources);
  // A group's bad value reaches each of its hosts: report it once, where it was written.
  const seen = new Set<string>();
  for (const host of inventory.hosts.values())
    for (const p of hostVarProblems(host)) {
      const key = `${p.position?.file}:${p.position?.line}:${p.position?.column}:${p.message}`;
      if (!seen.has(key)) draft.problems.push(p);
      seen.add(key);
    }
  if (draft.problems.length > 0) throw new ConfigError(draft.problems);
  return inventory;
}
