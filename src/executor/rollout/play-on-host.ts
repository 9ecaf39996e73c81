/**
 * The play's tasks on one host of a rollout, through the playbook executor (templating, loops, register,
 * when, handlers, block/rescue/always, each change's undo journaled before it runs), so a play does under
 * `rollgate rollout` what it does under `rollgate run`, except for the modules the rollout runs itself
 * (rollout-modules.ts: the trial `reboot`, the deferred `verify`). Each host goes through the play on its own:
 * hosts of a batch do not wait for each other between tasks.
 */
import type { Connection } from '../../connection/connection.js';
import { runPlaySections } from '../play-run.js';
import type { HostSession } from '../host-session.js';
import type { HostCtx } from './host-context.js';
import { rolloutModules } from './rollout-modules.js';

export interface PlayOnHostResult {
  ok: boolean;
  /** Why the host failed: the failed task and its message. */
  message: string;
  /** The rollout was interrupted before the play's end: the tasks after the one in flight did not run. */
  interrupted?: boolean;
}

export async function runPlayOnHost(h: HostCtx, conn: Connection): Promise<PlayOnHostResult> {
  const { d } = h;
  const session = d.session;
  session.conn = conn;
  session.state = 'active';
  session.startPlay();
  const reconnect = async (s: HostSession): Promise<Connection> => {
    await s.conn?.close().catch(() => undefined);
    s.conn = await d.open();
    return s.conn;
  };
  h.step('play', 'started', d.planned.play.name);
  await runPlaySections({
    run: d.run,
    planned: d.planned,
    hosts: [session],
    once: new Map(),
    reconnect,
    modules: rolloutModules(h),
  });
  if (d.run.stop?.aborted && session.state === 'active') {
    h.step('play', 'failed', `interrupted (${String(d.run.stop.reason)})`);
    return { ok: false, interrupted: true, message: `interrupted (${String(d.run.stop.reason)})` };
  }
  const ok = session.state === 'active' || session.state === 'ended';
  const failedTask = session.lastFailure?.task;
  const message = ok
    ? 'play done'
    : `${failedTask ? `task "${failedTask}" ` : ''}${session.state}: ${session.reason ?? 'no message'}`;
  h.step('play', ok ? 'ok' : 'failed', ok ? undefined : message);
  return { ok, message };
}
