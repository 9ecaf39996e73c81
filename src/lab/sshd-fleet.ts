/**
 * A local fleet of real OpenSSH sshd processes on loopback ports, each with its own host keys. Used by the
 * integration tests, the benchmarks and the README's first command. Needs root (sshd privilege separation and
 * logins as the fleet users) and openssh-server installed.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, existsSync, rmSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Login user with a clean home and passwordless sudo (the fleet's default). */
export const FLEET_ADMIN_USER = 'rgops';
/** Login user without sudo, for become-failure cases. */
export const FLEET_PLAIN_USER = 'rgplain';

export interface FleetHost {
  name: string;
  port: number;
  /** Directory holding this host's keys and sshd_config. */
  dir: string;
  /** `type base64` of the host's ed25519 public key. */
  hostPublicKey: string;
  process: ChildProcess;
}

export interface SshdFleet {
  dir: string;
  hosts: FleetHost[];
  /** Operator private key authorised on every host, for every fleet user. */
  clientKey: string;
  /** known_hosts with every host's key, as `[127.0.0.1]:port` entries. */
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
}

const SSHD = existsSync('/usr/sbin/sshd') ? '/usr/sbin/sshd' : 'sshd';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Create the fleet users once (idempotent): clean homes so no shell rc file slows every command. */
export function ensureFleetUsers(): void {
  for (const user of [FLEET_ADMIN_USER, FLEET_PLAIN_USER]) {
    try {
      execFileSync('id', [user], { stdio: 'ignore' });
    } catch {
      execFileSync('useradd', ['--create-home', '--home-dir', `/var/lib/rollgate-fleet/${user}`, '--shell', '/bin/bash', user]);
    }
    // '!' (locked) makes sshd refuse key logins when PAM is off; '*' means "no password" but not locked.
    execFileSync('usermod', ['-p', '*', user]);
  }
  const sudoers = `${FLEET_ADMIN_USER} ALL=(ALL) NOPASSWD: ALL\n`;
  const sudoersFile = '/etc/sudoers.d/rollgate-fleet';
  if (!existsSync(sudoersFile) || readFileSync(sudoersFile, 'utf8') !== sudoers) {
    writeFileSync(sudoersFile, sudoers, { mode: 0o440 });
  }
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
}

function keygen(file: string, comment: string): void {
  if (!existsSync(file)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

function waitListening(child: ChildProcess, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`sshd on port ${port} not listening after ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('Server listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd on port ${port} exited with ${code}: ${stderr}`));
    });
  });
}

async function startHost(fleetDir: string, name: string, clientPub: string, extra: string[]): Promise<FleetHost> {
  const dir = join(fleetDir, name);
  mkdirSync(dir, { recursive: true });
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  keygen(hostKey, `${name}-host`);
  chmodSync(hostKey, 0o600);
  writeFileSync(join(dir, 'authorized_keys'), clientPub, { mode: 0o644 });
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PidFile none',
      'MaxStartups 500',
      'MaxSessions 100',
      'AllowTcpForwarding yes',
      'LogLevel INFO',
      ...extra,
    ];
    writeFileSync(join(dir, 'sshd_config'), config.join('\n') + '\n');
    const child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await waitListening(child, port, 10_000);
      child.stderr?.resume();
      const hostPublicKey = readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
      return { name, port, dir, hostPublicKey, process: child };
    } catch (err) {
      child.kill('SIGKILL');
      if (!String(err).includes('Address already in use') || attempt === 4) throw err;
    }
  }
  throw new Error('unreachable');
}

export async function startSshdFleet(options: FleetOptions): Promise<SshdFleet> {
  ensureFleetUsers();
  mkdirSync(options.dir, { recursive: true });
  // sshd reads authorized_keys as the login user: the directory must be traversable (keys inside stay 0600).
  chmodSync(options.dir, 0o755);
  const clientKey = join(options.dir, 'id_ed25519');
  keygen(clientKey, 'rollgate-operator');
  const clientPub = readFileSync(`${clientKey}.pub`, 'utf8');
  const prefix = options.namePrefix ?? 'h';
  const width = Math.max(2, String(options.count).length);
  const names = Array.from({ length: options.count }, (_, i) => `${prefix}${String(i + 1).padStart(width, '0')}`);
  const hosts: FleetHost[] = [];
  // Start in small parallel groups: fast, and bounded.
  for (let i = 0; i < names.length; i += 20) {
    hosts.push(...(await Promise.all(names.slice(i, i + 20).map((n) => startHost(options.dir, n, clientPub, options.extraConfig ?? [])))));
  }
  const knownHosts = join(options.dir, 'known_hosts');
  writeFileSync(knownHosts, hosts.map((h) => `[127.0.0.1]:${h.port} ${h.hostPublicKey}\n`).join(''));
  return {
    dir: options.dir,
    hosts,
    clientKey,
    knownHosts,
    async stop() {
      await Promise.all(
        hosts.map(
          (h) =>
            new Promise<void>((resolve) => {
              if (h.process.exitCode !== null || h.process.signalCode !== null) return resolve();
              h.process.once('exit', () => resolve());
              h.process.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}

/** Remove a fleet directory (keys included). */
export function removeFleetDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
