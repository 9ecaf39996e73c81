/**
 * A local sshd fleet that outlives the command that started it (for `npm run demo` and the benchmarks):
 * `up` starts N detached sshd on loopback and writes an inventory, known_hosts and a state file into a
 * directory; `down` stops what that state file lists. The VM lab replaces it for real hypervisors.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FLEET_ADMIN_USER, removeFleetDir, startSshdFleet } from './sshd-fleet.js';
import { descendants } from './process-tree.js';

export interface LocalFleetState {
  dir: string;
  inventory: string;
  knownHosts: string;
  clientKey: string;
  hosts: Array<{ name: string; port: number; pid: number }>;
}

const stateFile = (dir: string) => join(dir, 'fleet.json');

/** The inventory for a fleet: every host on 127.0.0.1 with its port, strict known_hosts, the operator key. */
export function fleetInventoryYaml(state: Omit<LocalFleetState, 'inventory'>, group = 'sshd_fleet'): string {
  const hosts = state.hosts.map((h) => `        ${h.name}:\n          ansible_port: ${h.port}\n`).join('');
  return [
    '# Written by rollgate\'s local sshd fleet (scripts/local-fleet.mjs). Host keys are checked strictly',
    '# against the known_hosts file below, which holds each host\'s own key.',
    'all:',
    '  vars:',
    '    ansible_host: 127.0.0.1',
    `    ansible_user: ${FLEET_ADMIN_USER}`,
    `    ansible_ssh_private_key_file: ${JSON.stringify(state.clientKey)}`,
    `    rollgate_known_hosts_file: ${JSON.stringify(state.knownHosts)}`,
    '  children:',
    `    ${group}:`,
    '      hosts:',
    hosts,
  ].join('\n');
}

export async function localFleetUp(dirArg: string, count: number): Promise<LocalFleetState> {
  const dir = resolve(dirArg);
  localFleetDown(dir);
  removeFleetDir(dir);
  const fleet = await startSshdFleet({ count, dir, detached: true });
  const base = {
    dir,
    knownHosts: fleet.knownHosts,
    clientKey: fleet.clientKey,
    hosts: fleet.hosts.map((h) => ({ name: h.name, port: h.port, pid: h.process.pid ?? 0 })),
  };
  const inventory = join(dir, 'inventory.yml');
  writeFileSync(inventory, fleetInventoryYaml(base));
  const state: LocalFleetState = { ...base, inventory };
  writeFileSync(stateFile(dir), JSON.stringify(state, null, 2) + '\n');
  return state;
}

function isSshd(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sshd';
  } catch {
    return false;
  }
}

/** Stop the fleet recorded in `dir` (its sshd listeners and their sessions). Returns how many were running. */
export function localFleetDown(dirArg: string): number {
  const file = stateFile(resolve(dirArg));
  if (!existsSync(file)) return 0;
  const state = JSON.parse(readFileSync(file, 'utf8')) as LocalFleetState;
  let stopped = 0;
  for (const h of state.hosts) {
    if (!h.pid || !isSshd(h.pid)) continue; // gone, or the pid now belongs to something else
    for (const child of descendants(h.pid)) process.kill(child, 'SIGKILL');
    process.kill(h.pid, 'SIGTERM');
    stopped++;
  }
  writeFileSync(file, JSON.stringify({ ...state, hosts: [] }, null, 2) + '\n');
  return stopped;
}
