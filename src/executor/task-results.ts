/**
 * Small pure pieces of task results: names and item labels as ansible-playbook prints them, a loop's items
 * folded into one registered result, and the recap counters.
 */
import type { HostRecap, TaskStatus } from '../events/events.js';
import type { Task } from '../load/playbook-types.js';
import { renderString } from '../template/template.js';
import type { VarScope } from '../template/vars.js';
import type { CallResult } from './module-call.js';

/** The task's name, or its module as ansible-playbook shows an unnamed task. */
export function taskLabel(task: Task): string {
  return task.name ?? task.module;
}

function short(text: string): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

/** loop_control.label templated, else the item itself (mappings as JSON). */
export function itemLabel(task: Task, scope: VarScope, item: unknown): string {
  if (task.loopLabel !== undefined) {
    const v = renderString(task.loopLabel, scope, task.position);
    return short(typeof v === 'string' ? v : JSON.stringify(v));
  }
  return short(typeof item === 'string' ? item : JSON.stringify(item));
}

/** A loop's results as Ansible registers them: `results` per item, changed/failed if any item was. */
export function aggregateItems(items: Array<{ item: unknown; r: CallResult }>, loopVar: string): CallResult {
  const statuses = items.map(({ r }) => r.status);
  const status: TaskStatus = statuses.includes('unreachable')
    ? 'unreachable'
    : statuses.includes('failed')
      ? 'failed'
      : statuses.length > 0 && statuses.every((s) => s === 'skipped')
        ? 'skipped'
        : statuses.includes('changed')
          ? 'changed'
          : 'ok';
  const results = items.map(({ item, r }) => ({
    [loopVar]: item,
    item,
    changed: r.status === 'changed',
    failed: r.status === 'failed',
    ...(r.status === 'skipped' ? { skipped: true } : {}),
    ...r.data,
  }));
  const msg =
    status === 'failed'
      ? 'One or more items failed'
      : status === 'unreachable'
        ? (items.find(({ r }) => r.status === 'unreachable')?.r.msg ?? 'unreachable')
        : 'All items completed';
  const facts = Object.assign({}, ...items.map(({ r }) => r.facts ?? {})) as Record<string, unknown>;
  return { status, msg, data: { results, msg }, ...(Object.keys(facts).length > 0 ? { facts } : {}) };
}

/** Count one task result as ansible-playbook's recap does (`ok` includes changed). */
export function countResult(recap: HostRecap, status: TaskStatus, ignored: boolean): void {
  switch (status) {
    case 'ok':
      recap.ok++;
      break;
    case 'changed':
      recap.ok++;
      recap.changed++;
      break;
    case 'skipped':
      recap.skipped++;
      break;
    case 'failed':
      if (ignored) recap.ignored++;
      else recap.failed++;
      break;
    case 'unreachable':
      recap.unreachable++;
      break;
  }
}
