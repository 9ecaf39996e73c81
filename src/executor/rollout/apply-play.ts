/**
 * The change part of a rollout on one host: each change task of the play runs check -> journal the undo ->
 * apply, and every task says what the boot after it must show (the expectations verification uses). `reboot`
 * tasks are the rollout's own business (trial boot), `verify` tasks become expectations, `snapshot` and
 * `assert` are read-only and left to `rollgate run`.
 */
import type { Connection } from '../../connection/connection.js';
import type { Journal } from '../../journal/journal.js';
import type { Play, TaskNode, Task } from '../../load/playbook-types.js';
import { createScope, evaluateCondition, renderValue } from '../../load/template.js';
import { findActionModule } from '../../modules/actions/index.js';
import { ModuleFailure, type ModuleContext } from '../../modules/module.js';
import type { RollgateEvent } from '../../events/events.js';
import { noExpectations, type Expectations } from './verify.js';

function flatten(nodes: readonly TaskNode[]): Task[] {
  return nodes.flatMap((n) => (n.kind === 'task' ? [n] : n.kind === 'block' ? flatten(n.block) : []));
}

/** What a task declares about the next boot. */
export function addExpectations(exp: Expectations, module: string, args: Record<string, unknown>): void {
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);
  switch (module) {
    case 'kernel_args':
      exp.argsPresent.push(...list(args.present));
      exp.argsAbsent.push(...list(args.absent));
      break;
    case 'vfio_bind':
      for (const id of list(args.ids)) exp.drivers[id.toLowerCase()] = 'vfio-pci';
      exp.vfioInInitramfs = true;
      break;
    case 'kernel_package':
      if (typeof args.version === 'string') exp.kernelRelease = args.version;
      break;
    case 'verify':
      if (typeof args.kernel === 'string') exp.kernelRelease = args.kernel;
      exp.argsPresent.push(...list(args.cmdline_present));
      exp.argsAbsent.push(...list(args.cmdline_absent));
      if (typeof args.default_domain === 'string') exp.defaultDomain = args.default_domain as Expectations['defaultDomain'];
      if (args.drivers && typeof args.drivers === 'object') Object.assign(exp.drivers, args.drivers);
      if (typeof args.vfio_in_initramfs === 'boolean') exp.vfioInInitramfs = args.vfio_in_initramfs;
      break;
  }
}

export interface ApplyResult {
  changed: boolean;
  expectations: Expectations;
  /** Journal step ids of the changes made, oldest first. */
  stepIds: number[];
}

export async function applyPlayChanges(
  conn: Connection,
  host: { name: string; vars: Record<string, unknown> },
  play: Play,
  journal: Journal,
  runId: string,
  emit: (e: RollgateEvent) => void,
): Promise<ApplyResult> {
  const scope = createScope([
    { kind: 'inventory', vars: host.vars },
    { kind: 'play', vars: play.vars },
  ]);
  const expectations = noExpectations();
  const stepIds: number[] = [];
  let changed = false;
  for (const task of flatten([...play.preTasks, ...play.tasks, ...play.postTasks])) {
    if (!task.when.every((c) => evaluateCondition(c, scope))) continue;
    const args = renderValue(task.args, scope, task.argsPosition) as Record<string, unknown>;
    addExpectations(expectations, task.module, args);
    const action = findActionModule(task.module);
    if (!action) continue;
    const name = task.name ?? task.module;
    const ctx: ModuleContext = { conn, host: host.name, vars: { ...host.vars, ...play.vars }, checkMode: false, emit };
    const outcome = await action.check(ctx, args);
    if (outcome.status === 'no_change') {
      emit({ type: 'rollout.host_step', at: Date.now(), runId, host: host.name, step: `task: ${name}`, status: 'ok', message: outcome.reason });
      continue;
    }
    const stepId = journal.beginStep(runId, host.name, { task: name, module: task.module, args });
    journal.recordUndo(stepId, outcome.undo);
    try {
      const res = await action.apply(ctx, args, outcome.change);
      journal.finishStep(stepId, { status: 'applied', message: res.message });
    } catch (err) {
      journal.finishStep(stepId, { status: 'failed', message: (err as Error).message });
      throw err instanceof ModuleFailure ? err : new ModuleFailure(`${name}: ${(err as Error).message}`);
    }
    stepIds.push(stepId);
    changed = true;
    emit({ type: 'rollout.host_step', at: Date.now(), runId, host: host.name, step: `task: ${name}`, status: 'changed', message: outcome.preview.summary });
  }
  return { changed, expectations, stepIds };
}
