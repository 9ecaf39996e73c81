/**
 * reboot: detach `sleep 1; systemctl reboot` (so the command's reply gets back), then wait until a full new SSH
 * login shows a different /proc/sys/kernel/random/boot_id, within boot_timeout. An open port proves nothing
 * (user-mode forwards accept at once); a login that still sees the old boot_id means the host is not down yet.
 */
import { sh, raw } from '../../connection/shell-quote.js';
import type { Connection } from '../../connection/connection.js';
import { defineHostModule, type ArgsOf } from '../define-module.js';
import { ModuleFailure, type CheckOutcome, type ModuleContext } from '../module.js';
import { findTools, hostRootFromVars, runChecked, toolCommand, type HostRoot } from '../host-root.js';

/** The options, as the schema below describes them. */
export type RebootArgs = ArgsOf<typeof reboot.options>;

export interface RebootChange {
  root: string;
  command: string;
  logCommand: string | null;
  timeoutMs: number;
  pollMs: number;
}

const BOOT_ID = '/proc/sys/kernel/random/boot_id';

async function bootId(conn: Connection, hr: HostRoot): Promise<string> {
  return (await runChecked(conn, sh`cat ${hr.path(BOOT_ID)}`, 'reading boot_id', 30_000)).trim();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Seconds between login attempts while waiting: `rollgate_reboot_poll_seconds` (default 5). */
function pollMs(vars: Record<string, unknown>): number {
  const v = Number(vars.rollgate_reboot_poll_seconds ?? 5);
  return Number.isFinite(v) && v > 0 ? Math.round(v * 1000) : 5000;
}

async function waitForNewBoot(
  ctx: ModuleContext,
  hr: HostRoot,
  before: string,
  change: RebootChange,
  started: number,
): Promise<{ conn: Connection; bootId: string }> {
  const deadline = started + change.timeoutMs;
  let lastError = 'no login attempted yet';
  // Bounded by the deadline and by a hard cap on attempts.
  for (let attempt = 0; attempt < 10_000 && Date.now() < deadline; attempt++) {
    await sleep(Math.min(change.pollMs, Math.max(0, deadline - Date.now())));
    try {
      const conn = await ctx.reconnect!();
      const now = await bootId(conn, hr);
      if (now !== before) return { conn, bootId: now };
      lastError = 'logged in, but the boot_id is unchanged (not rebooted yet)';
    } catch (err) {
      lastError = (err as Error).message;
    }
    ctx.emit({
      type: 'host.reboot',
      at: Date.now(),
      host: ctx.host,
      phase: 'waiting',
      ms: Date.now() - started,
      detail: lastError,
    });
  }
  ctx.emit({
    type: 'host.reboot',
    at: Date.now(),
    host: ctx.host,
    phase: 'timeout',
    ms: Date.now() - started,
    detail: lastError,
  });
  throw new ModuleFailure(
    `${ctx.host} did not come back within ${Math.round(change.timeoutMs / 1000)} s (last: ${lastError})`,
    true,
  );
}

export const reboot = defineHostModule({
  name: 'reboot',
  description: 'Reboot and wait until the host is back: boot_id changed and a full SSH login succeeded.',
  changesHost: true,
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      boot_timeout: {
        type: 'integer',
        minimum: 1,
        default: 600,
        description: 'seconds to wait for the host to come back',
      },
      reason: { type: 'string' },
    },
  },

  async check(ctx, args): Promise<CheckOutcome<RebootChange>> {
    const hr = hostRootFromVars(ctx.vars);
    const tools = await findTools(ctx.conn, hr, ['systemctl', 'logger']);
    if (!tools.systemctl) throw new ModuleFailure('systemctl is not installed; rollgate reboots through systemd');
    const timeout = args.boot_timeout ?? 600;
    if (!Number.isInteger(timeout) || timeout < 1)
      throw new ModuleFailure('boot_timeout must be a whole number of seconds ≥ 1');
    // nohup: a background job of a sudo'd shell can get SIGHUP when sudo's pty closes.
    const inner = `sleep 1; ${toolCommand(hr, tools.systemctl, ['reboot']).text}`;
    const command = sh`nohup sh -c ${inner} </dev/null >/dev/null 2>&1 &`.text;
    const logCommand =
      args.reason && tools.logger
        ? toolCommand(hr, tools.logger, ['-t', 'rollgate', '--', `reboot: ${args.reason}`]).text
        : null;
    const change: RebootChange = {
      root: hr.root,
      command,
      logCommand,
      timeoutMs: timeout * 1000,
      pollMs: pollMs(ctx.vars),
    };
    return {
      status: 'change',
      change,
      preview: {
        summary: `reboot${args.reason ? ` (${args.reason})` : ''} and wait up to ${timeout} s for a new boot_id over a new SSH login`,
        files: [],
        commands: [...(logCommand ? [logCommand] : []), command],
      },
      undo: { files: [], rebuild: [] },
    };
  },

  async apply(ctx, _args, change) {
    if (!ctx.reconnect) throw new ModuleFailure('this runner cannot reconnect, so it cannot wait for a reboot');
    const hr = hostRootFromVars({ rollgate_root: change.root });
    const before = await bootId(ctx.conn, hr);
    if (change.logCommand) await ctx.conn.exec(raw(change.logCommand));
    const started = Date.now();
    await runChecked(ctx.conn, raw(change.command), 'requesting the reboot', 30_000);
    ctx.emit({ type: 'host.reboot', at: started, host: ctx.host, phase: 'requested', ms: 0 });
    const back = await waitForNewBoot(ctx, hr, before, change, started);
    const ms = Date.now() - started;
    ctx.emit({ type: 'host.reboot', at: Date.now(), host: ctx.host, phase: 'back', ms });
    return {
      message: `rebooted in ${Math.round(ms / 1000)} s`,
      data: { previous_boot_id: before, boot_id: back.bootId, elapsed_ms: ms },
    };
  },
});
