/**
 * Rebooting a host and proving it came back, for the `reboot` module (`rollgate run`) and the rollout's trial
 * boot alike: the reboot is detached so its SSH reply arrives; "back" means a full SSH login succeeded and
 * /proc/sys/kernel/random/boot_id changed (a port that accepts TCP proves nothing: QEMU's user network and many
 * BMC NATs accept while the host is still in GRUB). Every wait is bounded.
 *
 * Host variables both read (`rebootOverrides`): `rollgate_reboot_poll_seconds` (pause between login attempts,
 * default 5) and `rollgate_reboot_command` (replaces `systemctl reboot`; tests on throwaway roots use it). How
 * long to wait is the caller's: the module's `boot_timeout` option, the rollout's `rollout.boot_timeout` or
 * `--boot-timeout`.
 */
import { ConnectionError, type Connection } from '../../connection/connection.js';
import { raw, sh } from '../../connection/shell-quote.js';
import type { HostRoot } from '../host-root.js';
import { readLoaderVarCommand } from './loader-vars.js';

export interface BootInfo {
  bootId: string;
  cmdline: string;
  /** The boot loader entry this boot started from where the loader says so (systemd-boot's LoaderEntrySelected). */
  loaderEntry?: string;
}

export async function readBootInfo(conn: Connection, hr: HostRoot): Promise<BootInfo> {
  const r = await conn.exec(
    sh`cat ${hr.path('/proc/sys/kernel/random/boot_id')}; c=$(cat ${hr.path('/proc/cmdline')}) || exit $?; printf '%s\\n' "$c"; ${readLoaderVarCommand(hr, 'LoaderEntrySelected')}`,
    { timeoutMs: 30_000 },
  );
  const [bootId = '', cmdline = '', loaderEntry = ''] = r.stdout.split('\n');
  // Never an empty or partial answer: a boot id compared with the one saved before a reboot decides whether the
  // host rebooted, so one that could not be read is an error, not "another boot".
  if (r.exitCode !== 0 || !/^[0-9a-f-]{36}$/i.test(bootId.trim()))
    throw new Error(`cannot read the boot id (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
  return {
    bootId: bootId.trim(),
    cmdline: cmdline.trim(),
    ...(loaderEntry.trim() ? { loaderEntry: loaderEntry.trim() } : {}),
  };
}

/** Default pause between login attempts while waiting for a boot. */
export const DEFAULT_REBOOT_POLL_MS = 5000;

export interface RebootOverrides {
  /** `rollgate_reboot_poll_seconds`, in ms (default 5000). */
  pollMs: number;
  /** `rollgate_reboot_command`: the command that reboots the host instead of `systemctl reboot`. */
  command?: string;
}

/** The host variables that tune a reboot, read the same way for `run` and `rollout`. */
export function rebootOverrides(vars: Record<string, unknown>): RebootOverrides {
  const poll = Number(vars.rollgate_reboot_poll_seconds ?? DEFAULT_REBOOT_POLL_MS / 1000);
  const command = vars.rollgate_reboot_command;
  return {
    pollMs: Number.isFinite(poll) && poll > 0 ? Math.round(poll * 1000) : DEFAULT_REBOOT_POLL_MS,
    ...(typeof command === 'string' && command.trim() !== '' ? { command } : {}),
  };
}

/** The detached line that reboots a second from now, so the command's own reply gets back first. */
export function detachedReboot(command: string): string {
  // nohup: a background job of a sudo'd shell can get SIGHUP when sudo's pty closes.
  return sh`nohup sh -c ${`sleep 1; ${command}`} </dev/null >/dev/null 2>&1 &`.text;
}

/** Ask the host to reboot a second from now, detached, so this command returns first. */
export async function requestReboot(conn: Connection, command = 'systemctl reboot'): Promise<void> {
  const r = await conn.exec(raw(detachedReboot(command)), { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`requesting the reboot failed: exit ${r.exitCode} ${r.stderr.trim()}`);
}

export type WaitOutcome =
  | { status: 'back'; conn: Connection; boot: BootInfo; ms: number }
  | { status: 'timeout'; ms: number; lastError: string };

export interface WaitOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** Pause between login attempts. Default 5000. */
  pollMs?: number;
  /** Close a connection that still sees the old boot (default true; false when `open` replaces its last one). */
  closeStale?: boolean;
  /** Called after each attempt that did not find the new boot, with why. */
  onAttempt?: (lastError: string, ms: number) => void;
}

/**
 * Log in again and again until the boot id differs from `oldBootId`, or the time is up. A `locked` connection
 * error (reached, but not the machine the run changed) is thrown at once: waiting, or a reset, cannot help.
 */
export async function waitForNewBootId(
  open: () => Promise<Connection>,
  hr: HostRoot,
  oldBootId: string,
  opts: WaitOptions,
): Promise<WaitOutcome> {
  const start = Date.now();
  const poll = opts.pollMs ?? DEFAULT_REBOOT_POLL_MS;
  let lastError = 'no login attempted yet';
  // Bounded by the deadline: each attempt is bounded by the connection's own timeouts.
  while (Date.now() - start < opts.timeoutMs) {
    let conn: Connection | undefined;
    try {
      conn = await open();
      const boot = await readBootInfo(conn, hr);
      if (boot.bootId && boot.bootId !== oldBootId) return { status: 'back', conn, boot, ms: Date.now() - start };
      lastError = 'logged in, but the boot_id is unchanged (not rebooted yet)';
    } catch (err) {
      if (err instanceof ConnectionError && err.kind === 'locked') throw err;
      lastError = (err as Error).message;
    }
    if (opts.closeStale !== false) await conn?.close().catch(() => undefined);
    opts.onAttempt?.(lastError, Date.now() - start);
    await new Promise((r) => setTimeout(r, Math.min(poll, Math.max(0, opts.timeoutMs - (Date.now() - start)))));
  }
  return { status: 'timeout', ms: Date.now() - start, lastError };
}
