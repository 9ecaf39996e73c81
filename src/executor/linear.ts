/**
 * The linear strategy: every active host goes through a task before any host starts the next one. Blocks run
 * their `rescue:` for the hosts that failed inside `block:` and their `always:` for every host that entered;
 * `meta:` steers the play; notified handlers run at flush points in the order they are defined.
 */
import type { Block, Handler, MetaTask, Task, TaskNode } from '../load/playbook-types.js';
import { renderString } from '../template/template.js';
import type { HostSession } from './host-session.js';
import type { Inherited, PlayContext } from './run-context.js';
import { runPool } from './pool.js';
import { runTaskOnHost } from './task-run.js';
import { taskScope } from './task-scope.js';
import { evaluateCondition } from '../template/template.js';

const active = (hosts: readonly HostSession[]) => hosts.filter((h) => h.active);

/** Run `work` for each host, at most `forks` at once (the one pool, ./pool.ts). */
async function eachHost(
  hosts: readonly HostSession[],
  forks: number,
  work: (h: HostSession) => Promise<unknown>,
): Promise<void> {
  await runPool({ limit: forks, items: hosts, work });
}

/** The name shown for a task: templated with the first host's variables when that works, else as written. */
function shownName(task: Task, hosts: readonly HostSession[], play: PlayContext, inherited: Inherited): string {
  const name = task.name ?? task.module;
  const first = hosts[0];
  if (!task.name || !first || !name.includes('{{')) return name;
  try {
    return String(renderString(name, taskScope(first, play, inherited, task, play.run.options.check), task.position));
  } catch {
    return name;
  }
}

async function runTask(
  task: Task,
  hosts: readonly HostSession[],
  play: PlayContext,
  inherited: Inherited,
  handler = false,
): Promise<void> {
  const todo = active(hosts);
  if (todo.length === 0 || play.run.stop?.aborted) return;
  const p = task.position;
  play.run.bus.emit({
    type: 'task.started',
    at: Date.now(),
    task: shownName(task, todo, play, inherited),
    position: `${p.file}:${p.line}:${p.column}`,
    handler,
  });
  await eachHost(todo, play.run.options.forks, (h) => runTaskOnHost(task, h, play, inherited));
  if (play.planned.play.anyErrorsFatal && todo.some((h) => h.state === 'failed'))
    for (const h of active(hosts)) h.state = 'ended';
}

async function runMeta(
  meta: MetaTask,
  hosts: readonly HostSession[],
  play: PlayContext,
  inherited: Inherited,
): Promise<void> {
  switch (meta.action) {
    case 'flush_handlers':
      return runHandlers(play);
    case 'end_play':
      for (const h of active(hosts)) h.state = 'ended';
      return;
    case 'end_host':
      for (const h of active(hosts)) {
        const scope = taskScope(h, play, inherited, meta, play.run.options.check);
        if ([...inherited.when, ...meta.when].every((c) => evaluateCondition(c, scope))) h.state = 'ended';
      }
      return;
    case 'noop':
      return;
  }
}

function inherit(block: Block, inherited: Inherited): Inherited {
  return {
    when: [...inherited.when, ...block.when],
    blockVars:
      Object.keys(block.vars).length > 0
        ? [...inherited.blockVars, { kind: 'block', vars: block.vars, position: block.position }]
        : inherited.blockVars,
    become: block.become ?? inherited.become,
    ignoreErrors: block.ignoreErrors ?? inherited.ignoreErrors,
    checkMode: block.checkMode ?? inherited.checkMode,
    noLog: block.noLog ?? inherited.noLog,
    ...(inherited.rescuing ? { rescuing: true } : {}),
  };
}

async function runBlock(
  block: Block,
  hosts: readonly HostSession[],
  play: PlayContext,
  inherited: Inherited,
): Promise<void> {
  const entering = active(hosts);
  if (entering.length === 0) return;
  const inner = inherit(block, inherited);
  await runNodes(block.block, entering, play, inner);
  const failed = entering.filter((h) => h.state === 'failed');
  if (block.rescue.length > 0 && failed.length > 0) {
    for (const h of failed) {
      // The failure is handled here: it counts as rescued, not failed, once the rescue succeeds.
      h.state = 'active';
      h.recap.failed--;
      h.recap.rescued++;
    }
    await runNodes(block.rescue, failed, play, { ...inner, rescuing: true });
    for (const h of failed)
      if (h.state === 'failed') {
        h.recap.rescued--;
        h.recap.failed++;
      }
  }
  if (block.always.length > 0) {
    const stillFailed = entering.filter((h) => h.state === 'failed');
    for (const h of stillFailed) h.state = 'active';
    await runNodes(block.always, entering, play, inner);
    for (const h of stillFailed) if (h.state === 'active') h.state = 'failed';
  }
}

/** Run a list of tasks and blocks on the hosts still active. */
export async function runNodes(
  nodes: readonly TaskNode[],
  hosts: readonly HostSession[],
  play: PlayContext,
  inherited: Inherited,
): Promise<void> {
  for (const node of nodes) {
    // Stopping (a signal, or the lease lost): no task starts after the ones in flight.
    if (active(hosts).length === 0 || play.run.stop?.aborted) return;
    if (node.kind === 'task') await runTask(node, hosts, play, inherited);
    else if (node.kind === 'meta') await runMeta(node, hosts, play, inherited);
    else await runBlock(node, hosts, play, inherited);
  }
}

function answers(handler: Handler, notified: ReadonlySet<string>): boolean {
  return (handler.name !== undefined && notified.has(handler.name)) || handler.listen.some((t) => notified.has(t));
}

/** Run every notified handler, in definition order, on the active hosts that notified it. */
export async function runHandlers(play: PlayContext): Promise<void> {
  for (const handler of play.planned.handlers) {
    const hosts = active(play.hosts).filter((h) => answers(handler, h.notified));
    if (hosts.length === 0) continue;
    for (const h of hosts) {
      if (handler.name) h.notified.delete(handler.name);
      for (const t of handler.listen) h.notified.delete(t);
    }
    await runTask(handler, hosts, play, { when: [], blockVars: [] }, true);
  }
}
