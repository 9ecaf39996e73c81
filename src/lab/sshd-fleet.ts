/**
 * A local fleet of real OpenSSH sshd processes on loopback ports, each with its own host keys. Used by the
 * integration tests, the benchmarks and the README's first command. Needs root (sshd privilege separation and
 * logins as the fleet users) and openssh-server installed. User setup runs through zx.
 */
import { mkdirSync, writeFileSync, readFileSync, existsSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import { killDescendants } from './process-tree.js';
import { keygen, startSshdHost, type FleetHost, type HostKeyType } from './sshd-host.js';

export type { FleetHost, HostKeyType } from './sshd-host.js';

/** Login user with a clean home and passwordless sudo (the fleet's default). */
export const FLEET_ADMIN_USER = 'rgops';
/** Login user without sudo, for become-failure cases. */
export const FLEET_PLAIN_USER = 'rgplain';
/** Login user whose sudo asks for a password (FLEET_SUDO_PASSWORD), as on most hosts that are not automated yet. */
export const FLEET_SUDO_PW_USER = 'rgsudopw';
/** Login user with a password (FLEET_SUDO_PASSWORD) who may not sudo at all. */
export const FLEET_NO_SUDO_PW_USER = 'rgnosudo';
/**
 * The password of FLEET_SUDO_PW_USER and FLEET_NO_SUDO_PW_USER: shell-hostile on purpose, and planted so that
 * tests can look for it in every output.
 */
export const FLEET_SUDO_PASSWORD = `pl4nted 'sudo' pw;$(id)`;

export interface SshdFleet {
  dir: string;
  hosts: FleetHost[];
  /** Operator private key authorised on every host, for every fleet user. */
  clientKey: string;
  /** known_hosts with every host's keys, as `[address]:port` entries. */
  knownHosts: string;
  stop(): Promise<void>;
}

export interface FleetOptions {
  count: number;
  /** Where keys, configs and logs go; created if missing. */
  dir: string;
  /** Host names, default h01, h02, ... */
  namePrefix?: string;
  /** Extra sshd_config lines for every host. */
  extraConfig?: string[];
  /** Address every sshd listens on. Default 127.0.0.1. */
  listenAddress?: string;
  /** Host key types each host serves. Default ['ed25519']. */
  hostKeyTypes?: HostKeyType[];
  /** Start the sshd processes inside this (existing) network namespace. */
  netns?: string;
  /** Let the sshd processes outlive this process (stop them with stopDetachedFleet). */
  detached?: boolean;
  /** Files laid over /etc for every host's sshd and sessions alone (name under /etc -> file): see SshdHostOptions. */
  etcFiles?: Record<string, string>;
}

/** Create the fleet users once (idempotent): clean homes so no shell rc file slows every command. */
export async function ensureFleetUsers(): Promise<void> {
  const run = $({ quiet: true });
  for (const user of [FLEET_ADMIN_USER, FLEET_PLAIN_USER, FLEET_SUDO_PW_USER, FLEET_NO_SUDO_PW_USER]) {
    if ((await run({ nothrow: true })`id ${user}`).exitCode !== 0)
      await run`useradd --create-home --home-dir ${`/var/lib/rollgate-fleet/${user}`} --shell /bin/bash ${user}`;
    // '!' (locked) makes sshd refuse key logins when PAM is off; '*' means "no password" but not locked.
    if (user === FLEET_ADMIN_USER || user === FLEET_PLAIN_USER) await run`usermod -p ${'*'} ${user}`;
    // A real password for the users sudo asks (not locked either: key logins still work), on stdin, not argv.
    else await run({ input: `${user}:${FLEET_SUDO_PASSWORD}\n` })`chpasswd`;
  }
  const rules: Array<[string, string]> = [
    ['/etc/sudoers.d/rollgate-fleet', `${FLEET_ADMIN_USER} ALL=(ALL) NOPASSWD: ALL\n`],
    ['/etc/sudoers.d/rollgate-fleet-password', `${FLEET_SUDO_PW_USER} ALL=(ALL) ALL\n`],
  ];
  for (const [file, text] of rules)
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text, { mode: 0o440 });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
}

/** known_hosts lines for hosts, as OpenSSH writes them for non-22 ports. */
export function knownHostsLines(hosts: readonly FleetHost[]): string {
  return hosts.flatMap((h) => h.hostPublicKeys.map((k) => `[${h.address}]:${h.port} ${k}\n`)).join('');
}

export async function startSshdFleet(options: FleetOptions): Promise<SshdFleet> {
  await ensureFleetUsers();
  mkdirSync(options.dir, { recursive: true });
  // sshd reads authorized_keys as the login user: the directory must be traversable (keys inside stay 0600).
  chmodSync(options.dir, 0o755);
  const clientKey = join(options.dir, 'id_ed25519');
  await keygen(clientKey, 'ed25519', 'rollgate-operator');
  const authorizedKeys = readFileSync(`${clientKey}.pub`, 'utf8');
  const prefix = options.namePrefix ?? 'h';
  const width = Math.max(2, String(options.count).length);
  const names = Array.from({ length: options.count }, (_, i) => `${prefix}${String(i + 1).padStart(width, '0')}`);
  const hosts: FleetHost[] = [];
  const start = (name: string) =>
    startSshdHost({
      name,
      dir: join(options.dir, name),
      authorizedKeys,
      ...(options.listenAddress ? { listenAddress: options.listenAddress } : {}),
      ...(options.hostKeyTypes ? { hostKeyTypes: options.hostKeyTypes } : {}),
      ...(options.netns ? { netns: options.netns } : {}),
      ...(options.detached ? { detached: true } : {}),
      ...(options.etcFiles ? { etcFiles: options.etcFiles } : {}),
      extraConfig: options.extraConfig ?? [],
    });
  try {
    // Start in small parallel groups: fast, and bounded.
    for (let i = 0; i < names.length; i += 20) hosts.push(...(await Promise.all(names.slice(i, i + 20).map(start))));
  } catch (err) {
    await stopHosts(hosts);
    throw err;
  }
  const knownHosts = join(options.dir, 'known_hosts');
  writeFileSync(knownHosts, knownHostsLines(hosts));
  return { dir: options.dir, hosts, clientKey, knownHosts, stop: () => stopHosts(hosts) };
}

/** Stop sshd listeners and their sessions (SIGTERM to a listener leaves its sessions running). */
export async function stopHosts(hosts: readonly FleetHost[]): Promise<void> {
  await Promise.all(
    hosts.map(
      (h) =>
        new Promise<void>((resolve) => {
          if (h.process.pid !== undefined) killDescendants(h.process.pid);
          if (h.process.exitCode !== null || h.process.signalCode !== null) return resolve();
          h.process.once('exit', () => resolve());
          h.process.kill('SIGTERM');
        }),
    ),
  );
}

/** Kill a host's open sessions (its connections drop mid-command); the listener keeps accepting. */
export function dropSessions(host: FleetHost): number {
  return host.process.pid === undefined ? 0 : killDescendants(host.process.pid);
}

/** Remove a fleet directory (keys included). */
export function removeFleetDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
