/**
 * One play: for each `serial` batch, one connection per host through the fleet runner (held for the whole
 * batch), then pre_tasks, tasks and post_tasks with the linear strategy, handlers flushed after each section.
 * A host whose connection cannot be opened is unreachable and out of the run. Returns false when the run must
 * stop (max_fail_percentage crossed, or every host of the play failed).
 */
import { ConnectionError, type Connection } from '../connection/connection.js';
import { openSsh, type Opener, type SharedConnections } from './connections.js';
import type { PlannedPlay } from '../plan/plan.js';
import type { Task } from '../load/playbook-types.js';
import { exceedsMaxFail } from '../strategy/threshold.js';
import { runOnFleet } from './fleet.js';
import { instrument } from './instrumented-connection.js';
import type { HostSession } from './host-session.js';
import { runHandlers, runNodes } from './linear.js';
import { claimingOpener } from './machine-identity.js';
import type { PlayContext, RunContext } from './run-context.js';
import { noInheritance } from './run-context.js';

export type { Opener } from './connections.js';
const defaultOpener: Opener = openSsh;

/** Open every host's connection, run `body` while they are held, then let the fleet runner close them. */
async function withConnections(
  sessions: HostSession[],
  run: RunContext,
  opener: Opener,
  body: (reconnect: (h: HostSession) => Promise<Connection>) => Promise<void>,
): Promise<void> {
  const byName = new Map(sessions.map((s) => [s.name, s]));
  const settled = new Map<string, () => void>();
  const allSettled = Promise.all(sessions.map((s) => new Promise<void>((resolve) => settled.set(s.name, resolve))));
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let shared: SharedConnections | undefined;
  const extra: Connection[] = [];
  const fleet = runOnFleet(
    sessions.map((s) => s.target),
    async (conn, target) => {
      byName.get(target.name)!.conn = conn;
      settled.get(target.name)!();
      await released;
    },
    {
      bus: run.bus,
      forks: sessions.length,
      open: async (target, sharedOptions) => {
        shared = sharedOptions;
        try {
          return await opener(target, sharedOptions);
        } catch (err) {
          const s = byName.get(target.name)!;
          const message = err instanceof Error ? err.message : String(err);
          if (err instanceof ConnectionError && err.kind === 'locked') {
            // Reached, but refused by the machine lock: failed, and nothing was done on it.
            s.fail(message);
            s.recap.failed++;
            run.bus.emit({
              type: 'task.result',
              at: Date.now(),
              host: s.name,
              task: 'lock',
              status: 'failed',
              message,
            });
            settled.get(target.name)!();
            throw err;
          }
          s.unreachable(message);
          s.recap.unreachable++;
          run.bus.emit({
            type: 'task.result',
            at: Date.now(),
            host: s.name,
            task: 'connect',
            status: 'unreachable',
            message,
          });
          settled.get(target.name)!();
          throw err;
        }
      },
    },
  );
  const reconnect = async (h: HostSession): Promise<Connection> => {
    if (!shared) throw new Error('reconnect before any connection was opened');
    await h.conn?.close().catch(() => undefined);
    const conn = instrument(await opener(h.target, shared), run.bus);
    extra.push(conn);
    h.conn = conn;
    return conn;
  };
  // Either every host has its connection (or its failure), or the runner stopped early with a bug to report.
  await Promise.race([allSettled, fleet.then(() => undefined)]);
  try {
    await body(reconnect);
  } finally {
    release();
    await fleet;
    await Promise.all(extra.map((c) => c.close().catch(() => undefined)));
    for (const s of sessions) s.conn = undefined;
  }
}

/**
 * gather_facts: true — our facts are the health snapshot, taken by the `snapshot` module before the first task,
 * which sets the host variables `snapshot` and `findings` (read-only, so it runs in check mode too). It is also
 * the baseline `verify` compares DMA faults with.
 */
function gatherFactsTask(planned: PlannedPlay): Task {
  const p = planned.play.position;
  return {
    kind: 'task',
    name: 'Gathering Facts',
    module: 'snapshot',
    args: {},
    argsPosition: p,
    position: p,
    when: [],
    tags: ['always'],
    vars: {},
    notify: [],
    loopVar: 'item',
    checkMode: false,
  };
}

/** gather_facts, then pre_tasks, tasks and post_tasks, handlers flushed after each: on the hosts of `ctx`. */
export async function runPlaySections(ctx: PlayContext): Promise<void> {
  if (ctx.planned.play.gatherFacts) await runNodes([gatherFactsTask(ctx.planned)], ctx.hosts, ctx, noInheritance);
  for (const section of [ctx.planned.preTasks, ctx.planned.tasks, ctx.planned.postTasks]) {
    await runNodes(section, ctx.hosts, ctx, noInheritance);
    await runHandlers(ctx);
  }
}

export async function runPlay(planned: PlannedPlay, run: RunContext, opener: Opener = defaultOpener): Promise<boolean> {
  const play = planned.play;
  const inPlay = (names: readonly string[]) =>
    names.map((n) => run.sessions.get(n)!).filter((s) => s.state !== 'failed' && s.state !== 'unreachable');
  const sessions = inPlay(planned.hosts);
  for (const s of sessions) s.startPlay();
  run.bus.emit({ type: 'play.started', at: Date.now(), play: play.name, hosts: sessions.map((s) => s.name) });
  if (sessions.length === 0) return planned.hosts.length === 0;
  const open = run.claim ? claimingOpener(opener, run.claim) : opener;
  for (const names of planned.batches) {
    if (run.stop?.aborted) return false;
    const batch = inPlay(names);
    if (batch.length === 0) continue;
    await withConnections(batch, run, open, (reconnect) =>
      runPlaySections({ run, planned, hosts: batch, once: new Map(), reconnect }),
    );
    const failed = batch.filter((s) => s.state === 'failed' || s.state === 'unreachable').length;
    if (exceedsMaxFail(failed, batch.length, play.maxFailPercentage)) return false;
    if (play.anyErrorsFatal && failed > 0) return false;
  }
  return sessions.some((s) => s.state === 'active' || s.state === 'ended');
}
