/**
 * Modules a play runs differently under `rollgate rollout` (looked up before the normal ones):
 * - `reboot` is the trial boot: arm the one-shot candidate, reboot, wait (power reset when silent), and carry on
 *   with the play's next tasks on the new boot. Landing on the known-good entry fails the task.
 * - `verify` declares what the engine's verification after the play checks (against the pre-change snapshot):
 *   its options are journaled with the step and read back as expectations; the task itself reports ok.
 * - `snapshot` (gather_facts) takes the health snapshot over the host's connection.
 */
import type { PlaybookAction } from '../../modules/registry.js';
import type { ControllerAction } from '../../modules/controller-action.js';
import { ModuleFailure, type ActionModule } from '../../modules/module.js';
import { moduleSpecs } from '../../modules/registry.js';
import type { HostCtx } from './host-context.js';
import { trialReboot } from './trial-reboot.js';

function trialRebootModule(h: HostCtx): ActionModule<{ reason?: string }, { reason: string }> {
  return {
    ...moduleSpecs.reboot,
    async check(_ctx, args) {
      const reason = args.reason ?? 'reboot task';
      const summary = h.alreadyBooted
        ? 'already on the trial boot (resumed run)'
        : `trial boot (${reason}): the candidate boots once with panic=${h.d.settings.panicTimeoutSec}; the known-good entry stays the default until verification`;
      return {
        status: 'change',
        change: { reason },
        preview: { summary, files: [], commands: ['grub-reboot rollgate-trial', 'systemctl reboot'] },
        undo: { files: [], rebuild: [] },
      };
    },
    async apply(_ctx, _args, change) {
      if (h.alreadyBooted) {
        h.alreadyBooted = false;
        return { message: 'already on the trial boot (resumed run)' };
      }
      const session = h.d.session;
      const out = await trialReboot(h, session.conn!, change.reason);
      if (out.side === 'not_back') throw new ModuleFailure(`not back from the trial boot: ${out.message}`);
      session.conn = out.conn;
      if (out.side === 'fallback')
        throw new ModuleFailure('the trial boot did not come up: the host is back on its known-good entry');
      return {
        message: `trial boot up in ${Math.round(out.ms / 1000)} s${out.reset ? ' (after a power reset)' : ''}`,
        data: { elapsed_ms: out.ms, power_reset: out.reset },
      };
    },
  };
}

const deferredVerify: ControllerAction = {
  ...moduleSpecs.verify,
  kind: 'controller',
  expressionOptions: [],
  async run() {
    return {
      status: 'ok',
      msg: "checked by the rollout's verification after the play, against the pre-change snapshot",
    };
  },
};

function snapshotModule(h: HostCtx): ControllerAction {
  return {
    ...moduleSpecs.snapshot,
    kind: 'controller',
    expressionOptions: [],
    async run() {
      const conn = h.d.session.conn;
      if (!conn) return { status: 'failed', msg: 'no connection' };
      return { status: 'ok', data: { ...(await h.d.collect(conn)) } };
    },
  };
}

export function rolloutModules(h: HostCtx): Record<string, PlaybookAction> {
  return { reboot: trialRebootModule(h) as PlaybookAction, verify: deferredVerify, snapshot: snapshotModule(h) };
}
