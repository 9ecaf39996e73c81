/**
 * Rebooting a host and knowing it came back: the reboot is detached so its SSH reply arrives; "back" means a full
 * SSH login succeeded and /proc/sys/kernel/random/boot_id changed (a port that accepts TCP proves nothing: QEMU's
 * user network and many BMC NATs accept while the host is still in GRUB). Every wait is bounded.
 */
import { ConnectionError, type Connection } from '../../connection/connection.js';
import { sh, raw } from '../../connection/shell-quote.js';
import type { HostRoot } from '../../modules/host-root.js';
import type { ServiceStates } from './verify.js';

export interface BootInfo {
  bootId: string;
  cmdline: string;
}

export async function readBootInfo(conn: Connection, hr: HostRoot): Promise<BootInfo> {
  const r = await conn.exec(sh`cat ${hr.path('/proc/sys/kernel/random/boot_id')}; cat ${hr.path('/proc/cmdline')}`, {
    timeoutMs: 30_000,
  });
  const [bootId = '', cmdline = ''] = r.stdout.split('\n');
  return { bootId: bootId.trim(), cmdline: cmdline.trim() };
}

/**
 * Ask the host to reboot a second from now, detached, so this command returns first. `ROLLGATE_REBOOT_COMMAND`
 * in the host's variables may replace `systemctl reboot` (tests on throwaway roots use it).
 */
export async function requestReboot(conn: Connection, command = 'systemctl reboot'): Promise<void> {
  const detached = sh`nohup sh -c ${`sleep 1; ${command}`} >/dev/null 2>&1 </dev/null &`;
  await conn.exec(raw(detached.text), { timeoutMs: 30_000 });
}

export type WaitOutcome =
  | { status: 'back'; conn: Connection; boot: BootInfo; ms: number }
  | { status: 'timeout'; ms: number; lastError: string };

export interface WaitOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** Pause between login attempts. Default 5000. */
  pollMs?: number;
}

/** Log in again and again until the boot id differs from `oldBootId`, or the time is up. */
export async function waitForBoot(
  open: () => Promise<Connection>,
  hr: HostRoot,
  oldBootId: string,
  opts: WaitOptions,
): Promise<WaitOutcome> {
  const start = Date.now();
  const poll = opts.pollMs ?? 5000;
  let lastError = 'no attempt yet';
  // Bounded by the deadline: each attempt is bounded by the connection's own timeouts.
  while (Date.now() - start < opts.timeoutMs) {
    let conn: Connection | undefined;
    try {
      conn = await open();
      const boot = await readBootInfo(conn, hr);
      if (boot.bootId && boot.bootId !== oldBootId) return { status: 'back', conn, boot, ms: Date.now() - start };
      lastError = 'still the old boot';
    } catch (err) {
      // Reached, but not the machine the run changed (or locked by another run): waiting, or a reset, cannot help.
      if (err instanceof ConnectionError && err.kind === 'locked') throw err;
      lastError = (err as Error).message;
    }
    await conn?.close().catch(() => undefined);
    await new Promise((r) => setTimeout(r, Math.min(poll, Math.max(0, opts.timeoutMs - (Date.now() - start)))));
  }
  return { status: 'timeout', ms: Date.now() - start, lastError };
}

/** sshd and the hypervisor's own services: active, inactive, failed, or absent when not installed. */
export async function serviceStates(
  conn: Connection,
  names: readonly string[] = ['ssh', 'libvirtd'],
): Promise<ServiceStates> {
  const r = await conn.exec(
    sh`for s in ${[...names]}; do if systemctl cat "$s.service" >/dev/null 2>&1; then printf '%s %s\\n' "$s" "$(systemctl is-active "$s" 2>/dev/null)"; else printf '%s absent\\n' "$s"; fi; done`,
    { timeoutMs: 30_000 },
  );
  const out: ServiceStates = {};
  for (const line of r.stdout.split('\n')) {
    const [name, state] = line.trim().split(' ');
    if (!name || !state) continue;
    out[name] = state === 'active' || state === 'absent' || state === 'failed' ? state : 'inactive';
  }
  return out;
}
