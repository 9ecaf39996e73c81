/**
 * The connection settings of one inventory host, read from Ansible's variable names and rollgate's own
 * (rollgate_* win over ansible_*, which win over the older ansible_ssh_*), type-checked, each with the variable
 * it came from and where that was written. Pure: resolve-target.ts turns this into an SshTarget (and checks that
 * key files exist). Every problem is reported at once, at the variable's file:line:col, with a fix.
 */
import { ConfigError, type ConfigProblem, type SourcePosition } from '../core/config-error.js';
import type { InventoryHost } from '../load/inventory.js';
import { parseAddress } from '../load/host-range.js';
import { powerDriverNames, type PowerConfig } from '../power/registry.js';
import { kindOf } from '../load/schema-errors.js';

/** Variable names for each setting, highest precedence first. */
export const connectionVarNames = {
  address: ['rollgate_host', 'ansible_host', 'ansible_ssh_host'],
  port: ['rollgate_port', 'ansible_port', 'ansible_ssh_port'],
  user: ['rollgate_user', 'ansible_user', 'ansible_ssh_user'],
  keyFiles: [
    'rollgate_key_file',
    'rollgate_ssh_private_key_file',
    'ansible_ssh_private_key_file',
    'ansible_private_key_file',
  ],
  become: ['rollgate_become', 'ansible_become'],
  becomeUser: ['rollgate_become_user', 'ansible_become_user'],
  knownHostsFile: ['rollgate_known_hosts_file', 'ansible_ssh_known_hosts_file'],
  sshCommonArgs: ['ansible_ssh_common_args'],
  power: ['rollgate_power'],
} as const;

/** A setting's value, the variable that gave it (undefined for a default) and where that was written. */
export interface Setting<T> {
  value: T;
  from?: string;
  origin: SourcePosition;
}

export interface ConnectionVars {
  /** Where to connect; defaults to the inventory name. */
  address: Setting<string>;
  /** Default 22. */
  port: Setting<number>;
  user?: Setting<string>;
  /** Private key files in the order to try (paths as written; `~` not expanded). */
  keyFiles?: Setting<string[]>;
  /** Default false. */
  become: Setting<boolean>;
  becomeUser?: Setting<string>;
  knownHostsFile?: Setting<string>;
  sshCommonArgs?: Setting<string>;
  power?: Setting<PowerConfig>;
}

type HostLike = Pick<InventoryHost, 'name' | 'vars' | 'origin' | 'varOrigins'>;
type Found = { name: string; value: unknown; origin: SourcePosition };

const trueWords = ['y', 'yes', 'on', '1', 'true', 't'];
const falseWords = ['n', 'no', 'off', '0', 'false', 'f'];

/** Ansible's boolean(): true/false, yes/no, on/off, 1/0 (any case); undefined for anything else. */
export function ansibleBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const word = String(value).trim().toLowerCase();
  return trueWords.includes(word) ? true : falseWords.includes(word) ? false : undefined;
}

/** The connection settings of `host`; throws ConfigError listing every bad value. */
export function connectionVars(host: HostLike): ConnectionVars {
  const problems: ConfigProblem[] = [];
  const find = (setting: keyof typeof connectionVarNames): Found | undefined => {
    const name = connectionVarNames[setting].find((n) => n in host.vars);
    return name === undefined
      ? undefined
      : { name, value: host.vars[name], origin: host.varOrigins[name] ?? host.origin };
  };
  const bad = (f: Found, message: string, hint: string) =>
    problems.push({ position: f.origin, message: `host \`${host.name}\`: ${f.name} ${message}`, hint });
  const setting = <T>(f: Found, value: T): Setting<T> => ({ value, from: f.name, origin: f.origin });
  const text = (f: Found | undefined, hint: string): Setting<string> | undefined => {
    if (!f) return undefined;
    if (typeof f.value !== 'string' || f.value.trim() === '') return void bad(f, `is ${describe(f.value)}`, hint);
    if (f.value.includes('{{'))
      return void bad(
        f,
        'is a template, which rollgate does not expand in connection variables',
        'write the value itself',
      );
    return setting(f, f.value.trim());
  };

  const out: ConnectionVars = {
    address: { value: host.name, origin: host.origin },
    port: { value: 22, origin: host.origin },
    become: { value: false, origin: host.origin },
  };
  const addressVar = find('address');
  if (addressVar) {
    const address = text(
      addressVar,
      `write the host name or IP address to connect to, e.g. \`${addressVar.name}: 10.0.0.11\`, or remove it to connect to \`${host.name}\``,
    );
    if (address && !parseAddress(address.value))
      bad(
        addressVar,
        `is ${describe(address.value)}, not a host name or IP address`,
        'write a host name (hv01.example) or an IP address (10.0.0.11, fe80::1)',
      );
    else if (address) out.address = address;
  } else if (!parseAddress(host.name) || host.name.includes('[')) {
    problems.push({
      position: host.origin,
      message: `host \`${host.name}\` has no address: its name is not a host name or IP address`,
      hint: 'set `ansible_host:` to the address to connect to',
    });
  }
  const portVar = find('port');
  if (portVar) {
    const n =
      typeof portVar.value === 'string' && /^\s*\d+\s*$/.test(portVar.value) ? Number(portVar.value) : portVar.value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535)
      bad(
        portVar,
        `is ${describe(portVar.value)}, not a TCP port`,
        `write a whole number from 1 to 65535, e.g. \`${portVar.name}: 22\``,
      );
    else out.port = setting(portVar, n);
  }
  const user = text(find('user'), 'write the login user name, e.g. `ansible_user: ops`');
  if (user) out.user = user;
  const keyVar = find('keyFiles');
  if (keyVar) {
    const list = Array.isArray(keyVar.value) ? keyVar.value : [keyVar.value];
    if (list.length === 0 || !list.every((k) => typeof k === 'string' && k.trim() !== '' && !k.includes('{{'))) {
      bad(
        keyVar,
        `is ${describe(keyVar.value)}`,
        `write the path of a private key file, e.g. \`${keyVar.name}: ~/.ssh/id_ed25519\``,
      );
    } else
      out.keyFiles = setting(
        keyVar,
        list.map((k) => (k as string).trim()),
      );
  }
  const becomeVar = find('become');
  if (becomeVar) {
    const b = ansibleBoolean(becomeVar.value);
    if (b === undefined)
      bad(
        becomeVar,
        `is ${describe(becomeVar.value)}, not true or false`,
        `write \`${becomeVar.name}: true\` or \`${becomeVar.name}: false\``,
      );
    else out.become = setting(becomeVar, b);
  }
  const becomeUser = text(find('becomeUser'), 'write the user to become, e.g. `ansible_become_user: root`');
  if (becomeUser) out.becomeUser = becomeUser;
  const knownHosts = text(
    find('knownHostsFile'),
    'write the path of a known_hosts file, e.g. `rollgate_known_hosts_file: ~/.ssh/known_hosts_fleet`',
  );
  if (knownHosts) out.knownHostsFile = knownHosts;
  const args = find('sshCommonArgs');
  if (args) {
    if (typeof args.value !== 'string')
      bad(
        args,
        `is ${describe(args.value)}`,
        'write the ssh arguments as one string, e.g. `ansible_ssh_common_args: -o ProxyJump=bastion`',
      );
    else out.sshCommonArgs = setting(args, args.value);
  }
  const powerVar = find('power');
  if (powerVar) {
    const p = powerVar.value as Record<string, unknown> | null;
    if (p === null || typeof p !== 'object' || Array.isArray(p) || !powerDriverNames().includes(String(p.driver))) {
      bad(
        powerVar,
        `is ${kindOf(powerVar.value)} without a known driver`,
        `write a mapping with \`driver:\` one of ${powerDriverNames().join(', ')}, e.g. \`rollgate_power: {driver: ipmi, host: 10.0.0.5, user: admin, password_env: IPMI_PASSWORD}\``,
      );
    } else out.power = setting(powerVar, p as PowerConfig);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (typeof value === 'string') return value.trim() === '' ? 'an empty string' : JSON.stringify(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `the list ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}

/** Connection settings of several hosts; one ConfigError listing the problems of all of them. */
export function connectionVarsOf(hosts: Iterable<HostLike>): Map<string, ConnectionVars> {
  const out = new Map<string, ConnectionVars>();
  const problems: ConfigProblem[] = [];
  for (const host of hosts) {
    try {
      out.set(host.name, connectionVars(host));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}
