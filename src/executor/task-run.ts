/**
 * One task on one host, as ansible-playbook runs it: the `when` conditions (the block's and the task's, per loop
 * item), the loop, the module, `changed_when` / `failed_when` with the registered name bound to this result,
 * `register`, `set_fact`, `notify` on change, `ignore_errors`, and the host's recap counters.
 */
import type { TaskStatus } from '../events/events.js';
import type { Task } from '../load/playbook-types.js';
import { evaluateCondition, renderValue, TemplateFailure } from '../template/template.js';
import type { VarScope } from '../template/vars.js';
import { callModule, type CallResult } from './module-call.js';
import { withBecome } from './become.js';
import type { HostSession } from './host-session.js';
import type { Inherited, PlayContext } from './run-context.js';
import { taskScope, withLoopItem } from './task-scope.js';
import { addNoLogResult, addScopeSecrets, NO_LOG_HIDDEN, NO_LOG_ITEM } from './scope-secrets.js';
import { aggregateItems, countResult, itemLabel, taskLabel } from './task-results.js';

export interface TaskOutcome {
  status: TaskStatus;
  ignored: boolean;
  result: Record<string, unknown>;
  msg?: string;
}

interface Settings {
  checkMode: boolean;
  noLog: boolean;
  ignoreErrors: boolean;
  become: boolean | undefined;
}

function settings(task: Task, inherited: Inherited, play: PlayContext): Settings {
  return {
    checkMode: task.checkMode ?? inherited.checkMode ?? play.run.options.check,
    noLog: task.noLog ?? inherited.noLog ?? false,
    ignoreErrors: task.ignoreErrors ?? inherited.ignoreErrors ?? false,
    become: task.become ?? inherited.become ?? play.planned.play.become,
  };
}

const failedResult = (msg: string): CallResult => ({ status: 'failed', msg, data: { failed: true, msg } });

/** The loop's items, or one undefined item when the task has no loop. */
function loopItems(task: Task, scope: VarScope): unknown[] | { error: string } {
  if (task.loop === undefined) return [undefined];
  const items = renderValue(task.loop, scope, task.position);
  if (Array.isArray(items)) return items;
  const kind =
    items === null ? 'None' : typeof items === 'object' ? 'a mapping' : `the ${typeof items} \`${String(items)}\``;
  const hint = typeof items === 'object' && items !== null ? ' (use `| dict2items` to loop over a mapping)' : '';
  return {
    error: `${task.position.file}:${task.position.line}:${task.position.column}: \`loop\` must give a list, not ${kind}${hint}`,
  };
}

/** changed_when / failed_when, evaluated with the registered name bound to this result. */
function judge(task: Task, scope: VarScope, r: CallResult): CallResult {
  if (r.status === 'skipped' || r.status === 'unreachable' || (!task.changedWhen && !task.failedWhen)) return r;
  const bound = task.register
    ? scope.with({
        kind: 'registered',
        vars: { [task.register]: { ...r.data, changed: r.status === 'changed', failed: r.status === 'failed' } },
      })
    : scope;
  try {
    let status = r.status;
    if (task.changedWhen && status !== 'failed')
      status = task.changedWhen.every((c) => evaluateCondition(c, bound)) ? 'changed' : 'ok';
    if (task.failedWhen) {
      const failed = task.failedWhen.every((c) => evaluateCondition(c, bound));
      status = failed ? 'failed' : status === 'failed' ? 'ok' : status;
    }
    const data = { ...r.data, changed: status === 'changed', failed: status === 'failed' };
    return { ...r, status, data, ...(status === 'failed' && !r.msg ? { msg: 'failed_when condition held' } : {}) };
  } catch (err) {
    if (err instanceof TemplateFailure) return failedResult(err.message);
    throw err;
  }
}

async function runItem(
  task: Task,
  host: HostSession,
  scope: VarScope,
  play: PlayContext,
  inherited: Inherited,
  s: Settings,
  item: string | undefined,
): Promise<CallResult> {
  for (const cond of [...inherited.when, ...task.when]) {
    if (!evaluateCondition(cond, scope))
      return {
        status: 'skipped',
        msg: `condition is false: ${cond.source}`,
        data: { skipped: true, changed: false, false_condition: cond.source },
      };
  }
  if (!host.conn) return { status: 'unreachable', msg: host.reason ?? 'no connection', data: { unreachable: true } };
  const ctx = {
    conn: withBecome(host.conn, s.become, task.timeoutSeconds !== undefined ? task.timeoutSeconds * 1000 : undefined),
    host: host.name,
    vars: scope.view() as Record<string, unknown>,
    emit: (e: Parameters<typeof play.run.bus.emit>[0]) => play.run.bus.emit(e),
    reconnect: play.reconnect ? () => play.reconnect!(host) : undefined,
  };
  const label = taskLabel(task) + (item !== undefined ? ` (item=${s.noLog ? NO_LOG_ITEM : item})` : '');
  const r = await callModule(task, host, scope, play, { checkMode: s.checkMode, noLog: s.noLog, label, ctx });
  return judge(task, scope, r);
}

/** Run `task` on `host`; updates the host's variables, notifications, state and recap; emits task.result. */
export async function runTaskOnHost(
  task: Task,
  host: HostSession,
  play: PlayContext,
  inherited: Inherited,
): Promise<TaskOutcome> {
  const s = settings(task, inherited, play);
  const scope = taskScope(host, play, inherited, task, s.checkMode);
  addScopeSecrets(play.run.secrets, scope, play.planned.play.noLogVars);
  const emit = (status: TaskStatus, r: CallResult, item?: string) =>
    play.run.bus.emit({
      type: 'task.result',
      at: Date.now(),
      host: host.name,
      task: taskLabel(task),
      module: task.module,
      status,
      ...(item !== undefined ? { item: s.noLog ? NO_LOG_ITEM : item } : {}),
      ...(status === 'failed' && s.ignoreErrors ? { ignored: true } : {}),
      ...(s.noLog
        ? r.msg || status === 'failed'
          ? { message: NO_LOG_HIDDEN }
          : {}
        : { ...(r.msg ? { message: r.msg } : {}), ...(r.preview ? { preview: r.preview } : {}) }),
    });
  let final: CallResult;
  try {
    const items = loopItems(task, scope);
    if ('error' in items) final = failedResult(items.error);
    else if (task.loop === undefined) final = await runItem(task, host, scope, play, inherited, s, undefined);
    else {
      const results: Array<{ item: unknown; r: CallResult }> = [];
      for (const [i, item] of items.entries()) {
        if (i > 0 && play.run.stop?.aborted) break; // stopping: the item in flight was the last
        const itemScope = withLoopItem(scope, task.loopVar, item, i, items.length);
        const label = itemLabel(task, itemScope, item);
        const r = await runItem(task, host, itemScope, play, inherited, s, label).catch((err: unknown) =>
          err instanceof TemplateFailure ? failedResult(err.message) : Promise.reject(err),
        );
        if (r.facts) Object.assign(host.facts, r.facts);
        results.push({ item, r });
        emit(r.status, r, label);
        if (r.status === 'unreachable') break;
      }
      final = aggregateItems(results, task.loopVar);
    }
  } catch (err) {
    if (!(err instanceof TemplateFailure)) throw err;
    final = failedResult(err.message);
  }
  if (task.loop === undefined || final.data.results === undefined) emit(final.status, final);
  if (s.noLog) addNoLogResult(play.run.secrets, { ...final.data, facts: final.facts });
  return settle(task, host, final, s);
}

/** Register, set facts, notify, count, and take the host out when it failed or became unreachable. */
function settle(task: Task, host: HostSession, r: CallResult, s: Settings): TaskOutcome {
  const result = {
    changed: r.status === 'changed',
    failed: r.status === 'failed',
    ...(r.status === 'skipped' ? { skipped: true } : {}),
    ...r.data,
  };
  if (task.register) host.facts[task.register] = result;
  if (r.facts && task.loop === undefined) Object.assign(host.facts, r.facts);
  if (r.status === 'changed') for (const n of task.notify) host.notified.add(n);
  const ignored = r.status === 'failed' && s.ignoreErrors;
  countResult(host.recap, r.status, ignored);
  if (r.status === 'failed' && !ignored) {
    host.lastFailure = { task: taskLabel(task), result };
    host.fail(s.noLog ? NO_LOG_HIDDEN : r.msg);
  } else if (r.status === 'unreachable') host.unreachable(r.msg);
  return { status: r.status, ignored, result, ...(r.msg ? { msg: r.msg } : {}) };
}
