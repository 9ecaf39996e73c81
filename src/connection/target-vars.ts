/**
 * Reading connection variables off an inventory host: rollgate's own names first, then Ansible's, with the
 * file:line:col where each was set so a bad value can be reported where it was written.
 */
import type { ConfigProblem, SourcePosition } from '../load/config-error.js';

/**
 * The part of an inventory host that targets are resolved from. `InventoryHost` from src/load/inventory.ts
 * satisfies it; `origin` (where the host is declared) and `varOrigins` (where each var was set) are optional.
 */
export interface TargetHost {
  name: string;
  vars: Record<string, unknown>;
  origin?: SourcePosition;
  varOrigins?: Record<string, SourcePosition>;
}

/** Variable names for each connection setting, in precedence order. */
export const CONNECTION_VARS = {
  address: ['rollgate_host', 'ansible_host', 'ansible_ssh_host'],
  port: ['rollgate_port', 'ansible_port', 'ansible_ssh_port'],
  user: ['rollgate_user', 'ansible_user', 'ansible_ssh_user'],
  keyFiles: ['rollgate_ssh_private_key_file', 'ansible_ssh_private_key_file', 'ansible_private_key_file'],
  become: ['rollgate_become', 'ansible_become'],
  becomeUser: ['rollgate_become_user', 'ansible_become_user'],
  becomeMethod: ['ansible_become_method'],
  knownHostsFiles: ['rollgate_known_hosts_file', 'ansible_ssh_known_hosts_file'],
  proxyJump: ['rollgate_proxy_jump'],
  hostKeyChecking: ['rollgate_host_key_checking', 'ansible_host_key_checking'],
  connectTimeout: ['rollgate_connect_timeout', 'ansible_ssh_timeout', 'ansible_timeout'],
  connection: ['ansible_connection'],
} as const;

export type ConnectionSetting = keyof typeof CONNECTION_VARS;

/** One variable as found: its name, value and where it was written. */
export interface FoundVar {
  name: string;
  value: unknown;
  position?: SourcePosition;
}

export function findVar(host: TargetHost, setting: ConnectionSetting): FoundVar | undefined {
  for (const name of CONNECTION_VARS[setting]) {
    if (!(name in host.vars)) continue;
    const found: FoundVar = { name, value: host.vars[name] };
    const position = host.varOrigins?.[name] ?? host.origin;
    if (position) found.position = position;
    return found;
  }
  return undefined;
}

/** A problem about a variable, placed where it was set (or where the host is declared). */
export function varProblem(host: TargetHost, found: FoundVar | undefined, message: string, hint: string): ConfigProblem {
  const problem: ConfigProblem = { message: `host ${host.name}: ${message}`, hint };
  const position = found?.position ?? host.origin;
  if (position) problem.position = position;
  return problem;
}

/** Ansible's boolean(): true/yes/on/1 and false/no/off/0, case-insensitive; undefined for anything else. */
export function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase();
  if (['true', 'yes', 'on', '1', 'y', 't'].includes(v)) return true;
  if (['false', 'no', 'off', '0', 'n', 'f'].includes(v)) return false;
  return undefined;
}

/** An integer from a number or a numeric string (INI inventories give strings). */
export function asInteger(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return undefined;
}

/** A non-empty string, or every string of a list; undefined when anything else is there. */
export function asStringList(value: unknown): string[] | undefined {
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 0 || !values.every((v) => typeof v === 'string' && v.trim() !== '')) return undefined;
  return values.map((v) => (v as string).trim());
}
