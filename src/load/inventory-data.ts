/**
 * The inventory as it is being read, mirroring Ansible's InventoryData: groups and hosts in the order they were
 * first seen (that order shows in `ansible-inventory --list`), group membership, and each variable with the
 * file:line:col where it was set. The INI and YAML readers call these functions; `reconcile` then applies
 * Ansible's closing rules (parentless groups go under `all`, hosts with no group go to `ungrouped`).
 */
import type { ConfigProblem, SourcePosition } from '../core/config-error.js';
import { InternalError } from '../core/internal-error.js';

export interface GroupDraft {
  name: string;
  /** Hosts declared directly in this group, in order. */
  hosts: string[];
  children: string[];
  parents: string[];
  /** Variables set in inventory files (not group_vars/), with where each was set. */
  vars: Record<string, unknown>;
  varOrigins: Record<string, SourcePosition>;
  /** ansible_group_priority (default 1): among groups of equal depth, higher wins. */
  priority: number;
  origin: SourcePosition;
}

export interface HostDraft {
  name: string;
  /** Groups that list this host directly, in order. */
  directGroups: string[];
  vars: Record<string, unknown>;
  varOrigins: Record<string, SourcePosition>;
  /** Where the host is first declared. */
  origin: SourcePosition;
}

export interface InventoryDraft {
  groups: Map<string, GroupDraft>;
  hosts: Map<string, HostDraft>;
  problems: ConfigProblem[];
}

const builtIn: SourcePosition = { file: '(built-in)', line: 1, column: 1 };

export function createDraft(): InventoryDraft {
  const draft: InventoryDraft = { groups: new Map(), hosts: new Map(), problems: [] };
  addGroup(draft, 'all', builtIn);
  addGroup(draft, 'ungrouped', builtIn);
  addChild(draft, 'all', 'ungrouped', builtIn);
  return draft;
}

export function addGroup(draft: InventoryDraft, name: string, at: SourcePosition): GroupDraft {
  let group = draft.groups.get(name);
  if (!group) {
    group = {
      name,
      hosts: [],
      children: [],
      parents: [],
      vars: Object.create(null),
      varOrigins: Object.create(null),
      priority: 1,
      origin: at,
    };
    draft.groups.set(name, group);
  }
  return group;
}

/** Declare a host (its origin and `port` only count the first time, as in Ansible) and add it to `group`. */
export function addHost(
  draft: InventoryDraft,
  name: string,
  group: string | undefined,
  port: number | undefined,
  at: SourcePosition,
): HostDraft {
  let host = draft.hosts.get(name);
  if (!host) {
    host = { name, directGroups: [], vars: Object.create(null), varOrigins: Object.create(null), origin: at };
    draft.hosts.set(name, host);
    if (port !== undefined) setHostVar(draft, name, 'ansible_port', port, at);
  }
  if (group !== undefined) {
    const g = draft.groups.get(group) ?? addGroup(draft, group, at);
    if (!host.directGroups.includes(group)) {
      host.directGroups.push(group);
      g.hosts.push(name);
    }
  }
  return host;
}

function isDescendant(draft: InventoryDraft, of: string, name: string): boolean {
  const seen = new Set<string>();
  const stack = [...(draft.groups.get(of)?.children ?? [])];
  while (stack.length > 0) {
    const g = stack.pop() as string;
    if (g === name) return true;
    if (seen.has(g)) continue;
    seen.add(g);
    stack.push(...(draft.groups.get(g)?.children ?? []));
  }
  return false;
}

/** Make `child` a child group of `parent`; a loop is a problem reported at `at`. */
export function addChild(draft: InventoryDraft, parent: string, child: string, at: SourcePosition): void {
  const p = draft.groups.get(parent) ?? addGroup(draft, parent, at);
  const c = draft.groups.get(child) ?? addGroup(draft, child, at);
  if (p.children.includes(child)) return;
  if (parent === child || isDescendant(draft, child, parent)) {
    draft.problems.push({
      position: at,
      message: `making \`${child}\` a child of \`${parent}\` creates a loop of groups (\`${child}\` is already ${parent === child ? 'that group' : `an ancestor of \`${parent}\``})`,
      hint: `remove \`${child}\` from the children of \`${parent}\``,
    });
    return;
  }
  p.children.push(child);
  c.parents.push(parent);
}

export function setGroupVar(
  draft: InventoryDraft,
  group: string,
  key: string,
  value: unknown,
  at: SourcePosition,
): void {
  const g = draft.groups.get(group) ?? addGroup(draft, group, at);
  if (key === 'ansible_group_priority') {
    // Ansible keeps the priority apart from the vars (and so never shows it in hostvars).
    const n = typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      draft.problems.push({
        position: at,
        message: `ansible_group_priority of \`${group}\` is ${JSON.stringify(value)}, not an integer`,
        hint: 'write a whole number, e.g. `ansible_group_priority: 10` (default 1)',
      });
      return;
    }
    g.priority = n;
    return;
  }
  g.vars[key] = value;
  g.varOrigins[key] = at;
}

export function setHostVar(draft: InventoryDraft, host: string, key: string, value: unknown, at: SourcePosition): void {
  const h = draft.hosts.get(host);
  if (!h) throw new InternalError(`variable for undeclared host ${host}`);
  h.vars[key] = value;
  h.varOrigins[key] = at;
}

/** Every group `name` belongs to through its parents, `name` itself excluded. */
export function ancestors(draft: InventoryDraft, name: string): Set<string> {
  const out = new Set<string>();
  const stack = [...(draft.groups.get(name)?.parents ?? [])];
  while (stack.length > 0) {
    const g = stack.pop() as string;
    if (out.has(g)) continue;
    out.add(g);
    stack.push(...(draft.groups.get(g)?.parents ?? []));
  }
  return out;
}

/** The groups a host is in: those that list it directly and all their ancestors (with `all`). */
export function hostGroups(draft: InventoryDraft, host: string): Set<string> {
  const out = new Set<string>();
  for (const g of draft.hosts.get(host)?.directGroups ?? []) {
    out.add(g);
    for (const a of ancestors(draft, g)) out.add(a);
  }
  return out;
}

/** Ansible's reconcile_inventory, plus refusing a name used for both a host and a group. */
export function reconcile(draft: InventoryDraft): void {
  for (const g of draft.groups.values()) {
    if (g.name !== 'all' && ancestors(draft, g.name).size === 0) addChild(draft, 'all', g.name, g.origin);
  }
  const ungrouped = draft.groups.get('ungrouped') as GroupDraft;
  for (const host of draft.hosts.values()) {
    const groups = hostGroups(draft, host.name);
    const others = [...groups].filter((g) => g !== 'all' && g !== 'ungrouped');
    if (groups.has('ungrouped') && others.length > 0) {
      ungrouped.hosts = ungrouped.hosts.filter((h) => h !== host.name);
      host.directGroups = host.directGroups.filter((g) => g !== 'ungrouped');
    } else if (!groups.has('ungrouped') && others.length === 0) {
      ungrouped.hosts.push(host.name);
      host.directGroups.push('ungrouped');
    }
  }
  for (const host of draft.hosts.values()) {
    const group = draft.groups.get(host.name);
    if (!group) continue;
    draft.problems.push({
      position: host.origin,
      message: `\`${host.name}\` is both a host and a group (the group is declared at ${group.origin.file}:${group.origin.line}:${group.origin.column})`,
      hint: "rename the group or the host: Ansible would silently put this host's inventory variables on the group",
    });
  }
}
