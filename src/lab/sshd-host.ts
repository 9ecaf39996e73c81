/**
 * One real OpenSSH sshd on a loopback port with its own host keys, optionally inside a network namespace, with
 * files laid over /etc for it alone (an overlay in a private mount namespace), or detached (outliving the process
 * that started it, for `npm run demo`). Logs go to `<dir>/sshd.log`; readiness is its "Server listening" line
 * there. ssh-keygen runs through zx.
 */
// eslint-disable-next-line no-restricted-imports -- sshd is a long-lived (maybe detached) daemon whose ChildProcess the fleet keeps
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { $ } from 'zx';

export type HostKeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface SshdHostOptions {
  name: string;
  /** Directory for this host's keys, config and log. */
  dir: string;
  /** Public key line(s) allowed to log in as any fleet user. */
  authorizedKeys: string;
  /** Default 127.0.0.1. */
  listenAddress?: string;
  /** Host key types to generate and serve, in order. Default ['ed25519']. */
  hostKeyTypes?: HostKeyType[];
  /** Run sshd inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** Let sshd outlive this process (no pipes to it). */
  detached?: boolean;
  /** Extra sshd_config lines. They win over the defaults (sshd takes the first value); a `Match` block goes last. */
  extraConfig?: string[];
  /**
   * Files laid over /etc for this sshd and its sessions alone (file name under /etc -> the file to show there), by
   * an overlay mount in a private mount namespace: e.g. a test's own `shadow`, so that su asks for a known root
   * password while the machine's file stays as it is. An overlay, not a bind of the file: a bind mount on a file
   * disappears when the machine's file is replaced (chpasswd renames a new one over it).
   */
  etcFiles?: Record<string, string>;
}

/** `argv` run in a private mount namespace with `etcFiles` laid over /etc (same pid: unshare and sh exec). */
function withEtcFiles(argv: string[], dir: string, etcFiles: Record<string, string> | undefined): string[] {
  if (!etcFiles || Object.keys(etcFiles).length === 0) return argv;
  const upper = join(dir, 'etc-upper');
  const work = join(dir, 'etc-work');
  mkdirSync(upper, { recursive: true, mode: 0o755 });
  mkdirSync(work, { recursive: true });
  for (const [name, source] of Object.entries(etcFiles)) copyFileSync(source, join(upper, name));
  const mount = `mount -t overlay overlay -o lowerdir=/etc,upperdir=${upper},workdir=${work} /etc && exec "$@"`;
  return ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', mount, 'sh', ...argv];
}

export interface FleetHost {
  name: string;
  /** Address sshd listens on (inside its namespace when it has one). */
  address: string;
  port: number;
  /** Directory holding this host's keys, sshd_config and sshd.log. */
  dir: string;
  /** `type base64` of the host's first host key (ed25519 by default). */
  hostPublicKey: string;
  /** `type base64` of every host key it serves. */
  hostPublicKeys: string[];
  process: ChildProcess;
}

const SSHD = existsSync('/usr/sbin/sshd') ? '/usr/sbin/sshd' : 'sshd';

/** A TCP port free on 127.0.0.1 at the time of asking. */
export function freePort(): Promise<number> {
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

/** A key pair at file (and file.pub), unless one is there. */
export async function keygen(file: string, type: HostKeyType, comment: string): Promise<void> {
  if (existsSync(file)) return;
  const bits = type === 'rsa' ? ['-b', '2048'] : [];
  await $({ quiet: true })`ssh-keygen -q -t ${type} ${bits} -N ${''} -C ${comment} -f ${file}`;
}

async function waitListening(child: ChildProcess, log: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
  while (Date.now() < deadline) {
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
    if (text.includes('Server listening')) return;
    if (exited) throw new Error(`sshd on port ${port} ${exited}: ${text}`);
    await sleep(20);
  }
  throw new Error(`sshd on port ${port} not listening after ${timeoutMs} ms`);
}

export async function startSshdHost(o: SshdHostOptions): Promise<FleetHost> {
  const { dir, name } = o;
  const address = o.listenAddress ?? '127.0.0.1';
  mkdirSync(dir, { recursive: true });
  const keyFiles: string[] = [];
  for (const type of o.hostKeyTypes ?? ['ed25519']) {
    const file = join(dir, `ssh_host_${type}_key`);
    await keygen(file, type, `${name}-host`);
    chmodSync(file, 0o600);
    keyFiles.push(file);
  }
  writeFileSync(join(dir, 'authorized_keys'), o.authorizedKeys, { mode: 0o644 });
  const log = join(dir, 'sshd.log');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const extra = o.extraConfig ?? [];
    const matchAt = extra.findIndex((l) => /^\s*Match\s/i.test(l));
    const [early, late] = matchAt < 0 ? [extra, []] : [extra.slice(0, matchAt), extra.slice(matchAt)];
    const config = [
      ...early,
      `Port ${port}`,
      `ListenAddress ${address}`,
      ...keyFiles.map((f) => `HostKey ${f}`),
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
      ...late,
    ];
    writeFileSync(join(dir, 'sshd_config'), config.join('\n') + '\n');
    writeFileSync(log, '');
    const argv = withEtcFiles([SSHD, '-D', '-E', log, '-f', join(dir, 'sshd_config')], dir, o.etcFiles);
    const [cmd, ...args] = o.netns ? ['ip', 'netns', 'exec', o.netns, ...argv] : argv;
    const devNull = openSync('/dev/null', 'r+');
    const child = spawn(cmd!, args, { stdio: [devNull, devNull, devNull], detached: o.detached ?? false });
    closeSync(devNull);
    if (o.detached) child.unref();
    try {
      await waitListening(child, log, port, 10_000);
      const hostPublicKeys = keyFiles.map((f) => readFileSync(`${f}.pub`, 'utf8').split(' ').slice(0, 2).join(' '));
      return { name, address, port, dir, hostPublicKey: hostPublicKeys[0]!, hostPublicKeys, process: child };
    } catch (err) {
      child.kill('SIGKILL');
      if (!readFileSync(log, 'utf8').includes('Address already in use') || attempt === 4) throw err;
    }
  }
  throw new Error('unreachable');
}
