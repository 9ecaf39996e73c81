/**
 * What `ansible-inventory --list`, `--host NAME` and `--graph` print (ansible-core 2.14), from our Inventory:
 * the same structure, key order (sorted by code point), 4-space indentation and trailing newline.
 */
import { LockedVault } from '../core/locked-vault.js';
import type { Inventory } from '../load/inventory.js';
import { byCodePoint } from '../load/group-vars.js';
import { inlineVaultData } from '../load/vault.js';

// ansible-inventory removes these (magic and internal variables) from what it prints.
const internalVars = new Set([
  'ansible_diff_mode',
  'ansible_config_file',
  'ansible_facts',
  'ansible_forks',
  'ansible_inventory_sources',
  'ansible_limit',
  'ansible_playbook_python',
  'ansible_run_tags',
  'ansible_skip_tags',
  'ansible_verbosity',
  'ansible_version',
  'inventory_dir',
  'inventory_file',
  'inventory_hostname',
  'inventory_hostname_short',
  'groups',
  'group_names',
  'omit',
  'playbook_dir',
]);

/** A host's variables as ansible-inventory prints them. */
export function printableHostVars(inv: Inventory, host: string): Record<string, unknown> {
  const vars = inv.hosts.get(host)?.vars ?? {};
  return Object.fromEntries(Object.entries(vars).filter(([k]) => !internalVars.has(k)));
}

/** The object `ansible-inventory --list` prints. */
export function inventoryList(inv: Inventory): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  const formatGroup = (name: string): void => {
    const group = inv.groups.get(name);
    if (!group) return;
    const entry: Record<string, unknown> = {};
    if (name !== 'all' && group.hosts.length > 0) entry.hosts = [...group.hosts];
    if (group.children.length > 0) entry.children = [...group.children];
    out[name] = entry;
    for (const child of group.children) {
      if (seen.has(child)) continue;
      formatGroup(child);
      seen.add(child);
    }
    if (Object.keys(entry).length === 0) delete out[name];
  };
  formatGroup('all');
  const hostvars: Record<string, unknown> = {};
  for (const host of inv.hosts.keys()) {
    const vars = printableHostVars(inv, host);
    if (Object.keys(vars).length > 0) hostvars[host] = vars;
  }
  out._meta = { hostvars };
  return out;
}

/**
 * A value as Python's json.dumps(AnsibleJSONEncoder) would show it: dates as ISO dates, an inline `!vault` value
 * as `{"__ansible_vault": data}` (its plaintext is never printed), whether or not a vault password opened it.
 */
function toJsonValue(value: unknown): unknown {
  if (value instanceof LockedVault) return { __ansible_vault: value.data };
  if (typeof value === 'string') {
    const data = inlineVaultData(value);
    return data === undefined ? value : { __ansible_vault: data };
  }
  if (value instanceof Date) {
    const iso = value.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.replace('.000Z', '+00:00').replace('Z', '+00:00');
  }
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort(byCodePoint);
    return Object.fromEntries(keys.map((k) => [k, toJsonValue((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** JSON text as `json.dumps(sort_keys=True, indent=4, ensure_ascii=False)` prints it, plus the newline. */
export function ansibleJson(value: unknown): string {
  return JSON.stringify(toJsonValue(value), null, 4) + '\n';
}

/** The lines `ansible-inventory --graph [GROUP]` prints. */
export function inventoryGraph(inv: Inventory, root = 'all'): string[] {
  const lines: string[] = [];
  const name = (text: string, depth: number) => (depth > 0 ? '  |'.repeat(depth) + '--' + text : text);
  const walk = (group: string, depth: number): void => {
    lines.push(name(`@${group}:`, depth));
    const g = inv.groups.get(group);
    if (!g) return;
    for (const child of g.children) walk(child, depth + 1);
    if (group !== 'all') for (const host of g.hosts) lines.push(name(host, depth + 1));
  };
  walk(root, 0);
  return lines;
}
