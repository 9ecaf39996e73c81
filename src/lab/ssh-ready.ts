/**
 * "SSH-ready" for a lab VM means a full SSH login with strict host key checking succeeded and a command ran:
 * the user-mode network accepts TCP at once, even while the guest is still in GRUB, so a port probe lies.
 */
import { readFileSync, existsSync } from 'node:fs';
import { SshConnection } from '../connection/ssh.js';
import type { SshTarget } from '../connection/target.js';
import type { VmRecord } from './state.js';

/** Login user the inventory uses (passwordless sudo); the lab's own machinery logs in as root. */
export const LAB_OPERATOR_USER = 'rgops';

export function labTarget(rec: VmRecord, files: { operatorKey: string; knownHosts: string }, user = 'root', connectTimeoutMs = 30_000): SshTarget {
  return {
    name: rec.name,
    address: '127.0.0.1',
    port: rec.sshPort,
    user,
    identityFiles: [files.operatorKey],
    agentSocket: '',
    knownHostsFiles: [files.knownHosts],
    hostKeyPolicy: 'strict',
    become: user !== 'root',
    connectTimeoutMs,
    keepaliveIntervalMs: 10_000,
  };
}

export interface ReadyOptions {
  timeoutMs: number;
  pollMs: number;
  /** Wait for a boot other than this one (proves a reboot happened). */
  notBootId?: string;
  /** Serial log to quote when the wait fails. */
  consoleLog?: string;
}

export interface Ready {
  bootId: string;
  /** Time from the call to the successful login, ms. */
  waitedMs: number;
}

function consoleTail(file: string | undefined, lines = 15): string {
  if (!file || !existsSync(file)) return '';
  const text = readFileSync(file, 'utf8').replace(/\r/g, '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  return `\nlast console lines (${file}):\n` + text.split('\n').slice(-lines).join('\n');
}

/** Log in repeatedly until a login runs a command (bounded by timeoutMs); returns the boot id it saw. */
export async function waitForSsh(target: SshTarget, opts: ReadyOptions): Promise<Ready> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  let last = 'no attempt yet';
  while (Date.now() < deadline) {
    const attemptStart = Date.now();
    try {
      const left = Math.max(1000, deadline - Date.now());
      const conn = await SshConnection.open({ ...target, connectTimeoutMs: Math.min(target.connectTimeoutMs ?? 30_000, left) });
      try {
        const r = await conn.exec('cat /proc/sys/kernel/random/boot_id', { timeoutMs: 30_000, become: false });
        const bootId = r.stdout.trim();
        if (r.exitCode === 0 && bootId && bootId !== opts.notBootId) return { bootId, waitedMs: Date.now() - started };
        last = bootId === opts.notBootId ? `still on boot ${bootId}` : `boot_id read failed: ${r.stderr.trim()}`;
      } finally {
        await conn.close();
      }
    } catch (err) {
      const e = err as Error & { kind?: string };
      // A wrong host key never fixes itself: say so at once.
      if (e.kind === 'host_key') throw e;
      last = e.message;
    }
    const pause = Math.max(0, opts.pollMs - (Date.now() - attemptStart));
    if (Date.now() + pause >= deadline) break;
    await new Promise((r) => setTimeout(r, pause));
  }
  throw new Error(`${target.name}: no SSH login within ${Math.round(opts.timeoutMs / 1000)} s (last: ${last})${consoleTail(opts.consoleLog)}`);
}
