/**
 * reboot: detach `sleep 1; systemctl reboot` (so the command's reply gets back), then wait until a full new SSH
 * login shows a different /proc/sys/kernel/random/boot_id, within boot_timeout. An open port proves nothing
 * (user-mode forwards accept at once); a login that still sees the old boot_id means the host is not down yet.
 * Requesting, waiting and proving are modules/boot/reboot-proof.ts's, which the rollout's trial boot uses too.
 */
import { raw } from '../../connection/shell-quote.js';
import type { Connection } from '../../connection/connection.js';
import { defineHostModule, type ArgsOf } from '../define-module.js';
import { ModuleFailure, type CheckOutcome } from '../module.js';
import { findTools, hostRootFromVars, runChecked, toolCommand, type HostRoot } from '../host-root.js';
import { detachedReboot, readBootInfo, rebootOverrides, waitForNewBootId } from '../boot/reboot-proof.js';
import {
  drainGuests,
  drainPolicyFrom,
  drainPolicySchema,
  libvirtUriOf,
  planDrain,
  readGuests,
  refusalMessage,
  startGuests,
  virsh,
  type DrainPolicy,
} from '../guests/drain.js';

/** The options, as the schema below describes them. */
export type RebootArgs = ArgsOf<typeof reboot.options>;

export interface RebootChange {
  root: string;
  command: string;
  logCommand: string | null;
  timeoutMs: number;
  pollMs: number;
  /** Guests shut down before the reboot and started again after it (recorded before anything stops). */
  guests?: { uri: string | null; stop: string[]; policy: DrainPolicy };
}

async function bootId(conn: Connection, hr: HostRoot): Promise<string> {
  const { bootId } = await readBootInfo(conn, hr);
  if (!bootId) throw new ModuleFailure('reading boot_id gave nothing');
  return bootId;
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
      guests: drainPolicySchema,
    },
  },

  async check(ctx, args): Promise<CheckOutcome<RebootChange>> {
    const hr = hostRootFromVars(ctx.vars);
    const tools = await findTools(ctx.conn, hr, ['systemctl', 'logger']);
    const overrides = rebootOverrides(ctx.vars);
    const rebootLine =
      overrides.command ?? (tools.systemctl ? toolCommand(hr, tools.systemctl, ['reboot']).text : null);
    if (!rebootLine)
      throw new ModuleFailure(
        'systemctl is not installed; rollgate reboots through systemd (or set rollgate_reboot_command)',
      );
    const timeout = args.boot_timeout ?? 600;
    if (!Number.isInteger(timeout) || timeout < 1)
      throw new ModuleFailure('boot_timeout must be a whole number of seconds ≥ 1');
    const command = detachedReboot(rebootLine);
    // Running guests: never killed by surprise. Without a `guests:` policy the task refuses, even in check mode.
    let policy: DrainPolicy;
    try {
      policy = drainPolicyFrom(args.guests);
    } catch (err) {
      throw new ModuleFailure((err as Error).message);
    }
    const uri = libvirtUriOf(ctx.vars);
    const view = await readGuests(ctx.conn, uri).catch((err: Error) => {
      throw new ModuleFailure(`${err.message}; rollgate does not reboot a host whose guests it cannot see`);
    });
    const drain = planDrain(view, policy);
    if (drain.refused.length)
      throw new ModuleFailure(refusalMessage(ctx.host, drain, 'give the reboot task `guests: shutdown`'));
    const stop = drain.stop.map((g) => g.name);
    const logCommand =
      args.reason && tools.logger
        ? toolCommand(hr, tools.logger, ['-t', 'rollgate', '--', `reboot: ${args.reason}`]).text
        : null;
    const change: RebootChange = {
      root: hr.root,
      command,
      logCommand,
      timeoutMs: timeout * 1000,
      pollMs: overrides.pollMs,
      ...(stop.length ? { guests: { uri: uri ?? null, stop, policy } } : {}),
    };
    const u = uri ?? undefined;
    return {
      status: 'change',
      change,
      preview: {
        summary: `reboot${args.reason ? ` (${args.reason})` : ''} and wait up to ${timeout} s for a new boot_id over a new SSH login${stop.length ? `; guests ${stop.join(', ')} shut down before and started again after` : ''}`,
        files: [],
        commands: [
          ...stop.map((g) => virsh(u, 'shutdown', '--', g).text),
          ...(logCommand ? [logCommand] : []),
          command,
          ...stop.map((g) => virsh(u, 'start', '--', g).text),
        ],
      },
      undo: { files: [], rebuild: [] },
    };
  },

  async apply(ctx, _args, change) {
    if (!ctx.reconnect) throw new ModuleFailure('this runner cannot reconnect, so it cannot wait for a reboot');
    const hr = hostRootFromVars({ rollgate_root: change.root });
    const before = await bootId(ctx.conn, hr);
    const guestUri = change.guests?.uri ?? undefined;
    const progress = (message: string) => ctx.emit({ type: 'host.guests', at: Date.now(), host: ctx.host, message });
    let drained: string[] = [];
    if (change.guests)
      drained = await drainGuests(ctx.conn, guestUri, change.guests.stop, change.guests.policy, { progress }).catch(
        (err: Error) => {
          throw new ModuleFailure(`not rebooted: ${err.message}`);
        },
      );
    if (change.logCommand) await ctx.conn.exec(raw(change.logCommand));
    const started = Date.now();
    await runChecked(ctx.conn, raw(change.command), 'requesting the reboot', 30_000);
    ctx.emit({ type: 'host.reboot', at: started, host: ctx.host, phase: 'requested', ms: 0 });
    const reconnect = ctx.reconnect;
    const emitWait = (phase: 'waiting' | 'timeout', detail: string) =>
      ctx.emit({ type: 'host.reboot', at: Date.now(), host: ctx.host, phase, ms: Date.now() - started, detail });
    // The runner's reconnect closes the connection it replaces: a stale one is not closed here.
    const back = await waitForNewBootId(reconnect, hr, before, {
      timeoutMs: change.timeoutMs - (Date.now() - started),
      pollMs: change.pollMs,
      closeStale: false,
      onAttempt: (detail) => emitWait('waiting', detail),
    });
    if (back.status === 'timeout') {
      emitWait('timeout', back.lastError);
      throw new ModuleFailure(
        `${ctx.host} did not come back within ${Math.round(change.timeoutMs / 1000)} s (last: ${back.lastError})${drained.length ? `; guests shut down before the reboot and not started again: ${drained.join(', ')}` : ''}`,
        true,
      );
    }
    const ms = Date.now() - started;
    ctx.emit({ type: 'host.reboot', at: Date.now(), host: ctx.host, phase: 'back', ms });
    const started2 = drained.length
      ? await startGuests(back.conn ?? ctx.conn, guestUri, drained, { progress }).catch((err: Error) => {
          throw new ModuleFailure(`rebooted in ${Math.round(ms / 1000)} s, but ${err.message}`);
        })
      : [];
    return {
      message: `rebooted in ${Math.round(ms / 1000)} s${drained.length ? `; guests shut down and started again: ${drained.join(', ')}` : ''}`,
      data: {
        previous_boot_id: before,
        boot_id: back.boot.bootId,
        elapsed_ms: ms,
        ...(drained.length ? { guests_stopped: drained, guests_started: started2 } : {}),
      },
    };
  },
});
