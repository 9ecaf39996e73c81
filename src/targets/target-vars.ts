/**
 * Reading connection variables off an inventory host: rollgate's own names first, then Ansible's, with the
 * file:line:col where each was set so a bad value can be reported where it was written.
 */
import type { ConfigProblem, SourcePosition } from '../core/config-error.js';
import type { InventoryHost } from '../load/inventory.js';

/**
 * The part of an inventory host that targets are resolved from (what src/targets/connection-vars.ts reads, plus
 * the variables only the SSH layer knows).
 */
export type TargetHost = Pick<InventoryHost, 'name' | 'vars' | 'origin' | 'varOrigins'>;

/**
 * Connection variables beyond those src/targets/connection-vars.ts reads (address, port, user, key files,
 * become, become user, known_hosts file, ssh common args), in precedence order.
 */
export const CONNECTION_VARS = {
  becomeMethod: ['ansible_become_method'],
  becomeExe: ['ansible_become_exe'],
  becomeFlags: ['ansible_become_flags'],
  becomePassword: [
    'rollgate_become_password',
    'ansible_become_password',
    'ansible_become_pass',
    'ansible_sudo_password',
    'ansible_sudo_pass',
  ],
  becomePasswordEnv: ['rollgate_become_password_env'],
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
  position: SourcePosition;
}

export function findVar(host: TargetHost, setting: ConnectionSetting): FoundVar | undefined {
  for (const name of CONNECTION_VARS[setting]) {
    if (!(name in host.vars)) continue;
    return { name, value: host.vars[name], position: host.varOrigins[name] ?? host.origin };
  }
  return undefined;
}

/** A problem about a variable, placed where it was set (or where the host is declared). */
export function varProblem(
  host: TargetHost,
  found: FoundVar | undefined,
  message: string,
  hint: string,
): ConfigProblem {
  return { position: found?.position ?? host.origin, message: `host \`${host.name}\`: ${message}`, hint };
}

/** An integer from a number or a numeric string (INI inventories give strings). */
export function asInteger(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return undefined;
}
