/**
 * One module invocation on one host: find the implementation, template its options, then either run a
 * controller module, or check a host module and (outside check mode) journal its undo record before applying
 * it. Every invocation is a journal step. Outcomes are values; only bugs throw.
 */
import { ConnectionError } from '../connection/connection.js';
import type { TaskPreview } from '../events/events.js';
import { evaluateExpression, TemplateFailure } from '../template/template.js';
import type { VarScope } from '../template/vars.js';
import type { Task } from '../load/playbook-types.js';
import { findModule, type PlaybookAction } from '../modules/registry.js';
import type { ControllerAction } from '../modules/controller-action.js';
import { ModuleFailure, type ActionModule, type ModuleContext } from '../modules/module.js';
import { renderModuleArgs } from './module-args.js';
import { addNamedSecrets } from './run-secrets.js';
import { NO_LOG_HIDDEN } from './scope-secrets.js';
import type { HostSession } from './host-session.js';
import type { PlayContext } from './run-context.js';

export interface CallResult {
  status: 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';
  msg?: string;
  /** The registered result's fields (rc, stdout ... for commands; module data otherwise). */
  data: Record<string, unknown>;
  preview?: TaskPreview;
  /** Variables set for later tasks (set_fact). */
  facts?: Record<string, unknown>;
}

export interface CallOptions {
  checkMode: boolean;
  noLog: boolean;
  /** Names the step in the journal. */
  label: string;
  ctx: Omit<ModuleContext, 'checkMode'>;
}

function implementation(name: string, play: PlayContext): PlaybookAction | undefined {
  return play.modules?.[name] ?? findModule(name);
}

function isController(impl: PlaybookAction): impl is ControllerAction {
  return (impl as ControllerAction).kind === 'controller';
}

function failure(err: unknown): CallResult {
  if (err instanceof ConnectionError) {
    const unreachable = err.kind === 'dropped' || err.kind === 'unreachable';
    return {
      status: unreachable ? 'unreachable' : 'failed',
      msg: err.message,
      data: { failed: !unreachable, unreachable, msg: err.message, kind: err.kind },
    };
  }
  if (err instanceof ModuleFailure) {
    const data: Record<string, unknown> = { failed: true, msg: err.message };
    if (err.command) Object.assign(data, { rc: err.command.exitCode, stderr: err.command.stderrTail });
    return { status: 'failed', msg: err.message, data };
  }
  if (err instanceof TemplateFailure)
    return { status: 'failed', msg: err.message, data: { failed: true, msg: err.message } };
  throw err;
}

/** Run `task`'s module once (one loop item) on `host` with `scope`. */
export async function callModule(
  task: Task,
  host: HostSession,
  scope: VarScope,
  play: PlayContext,
  opts: CallOptions,
): Promise<CallResult> {
  const impl = implementation(task.module, play);
  if (!impl) {
    const msg = `${task.argsPosition.file}:${task.argsPosition.line}:${task.argsPosition.column}: module \`${task.module}\` is not available in this build of rollgate`;
    return { status: 'failed', msg, data: { failed: true, msg } };
  }
  const { journal } = play.run;
  let stepId: number | undefined;
  try {
    const rules = isController(impl)
      ? { expressionOptions: impl.expressionOptions }
      : { shellOptions: impl.shellOptions ?? [] };
    const args = renderModuleArgs(task.module, task.args, scope, task.argsPosition, rules);
    addNamedSecrets(play.run.secrets, args); // a module option such as `password:` holds a secret once templated
    stepId = journal.beginStep(play.run.runId, host.name, {
      task: opts.label,
      module: task.module,
      args: opts.noLog ? {} : args,
    });
    const result = isController(impl)
      ? await runController(impl, args, scope, task, play, opts)
      : await runHostModule(impl, args, opts, (undo) => journal.recordUndo(stepId!, undo));
    const status =
      result.status === 'changed' && !opts.checkMode
        ? 'applied'
        : result.status === 'failed'
          ? 'failed'
          : result.status === 'skipped'
            ? 'skipped'
            : 'ok';
    journal.finishStep(stepId, {
      status,
      ...(result.msg ? { message: opts.noLog ? NO_LOG_HIDDEN : result.msg } : {}),
      ...(opts.noLog ? {} : { data: result.data }),
    });
    return result;
  } catch (err) {
    const result = failure(err);
    if (stepId !== undefined)
      journal.finishStep(stepId, {
        status: 'failed',
        ...(result.msg ? { message: opts.noLog ? NO_LOG_HIDDEN : result.msg } : {}),
      });
    return result;
  }
}

async function runController(
  impl: ControllerAction,
  args: Record<string, unknown>,
  scope: VarScope,
  task: Task,
  play: PlayContext,
  opts: CallOptions,
): Promise<CallResult> {
  const r = await impl.run(
    {
      ...opts.ctx,
      checkMode: opts.checkMode,
      snapshots: {
        record: (phase, snapshot) => void play.run.journal.addSnapshot(play.run.runId, opts.ctx.host, phase, snapshot),
        first: () => play.run.journal.firstSnapshot(play.run.runId, opts.ctx.host),
      },
      evaluate: (expression) => evaluateExpression(expression, scope, task.position),
      once: <T>(work: () => Promise<T>) => {
        let pending = play.once.get(task) as Promise<T> | undefined;
        if (!pending) {
          pending = work();
          play.once.set(task, pending);
        }
        return pending;
      },
    },
    args,
  );
  const data = {
    ...(r.data ?? {}),
    ...(r.msg !== undefined ? { msg: r.msg } : {}),
    ...(r.status === 'failed' ? { failed: true } : {}),
    ...(r.status === 'skipped' ? { skipped: true } : {}),
  };
  return {
    status: r.status,
    ...(r.msg !== undefined ? { msg: r.msg } : {}),
    data,
    ...(r.facts ? { facts: r.facts } : {}),
  };
}

type HostModule = ActionModule<Record<string, unknown>, unknown> & { checkModeSkips?: true };

async function runHostModule(
  impl: HostModule,
  args: Record<string, unknown>,
  opts: CallOptions,
  recordUndo: (undo: import('../modules/module.js').UndoRecord) => void,
): Promise<CallResult> {
  const ctx: ModuleContext = { ...opts.ctx, checkMode: opts.checkMode };
  const outcome = await impl.check(ctx, args);
  if (outcome.status === 'no_change')
    return { status: 'ok', msg: outcome.reason, data: { changed: false, msg: outcome.reason } };
  const preview: TaskPreview = outcome.preview;
  if (opts.checkMode) {
    // command/shell cannot say what they would change: skipped, as in Ansible; the preview names the command.
    if (impl.checkModeSkips)
      return {
        status: 'skipped',
        msg: `check mode: would run ${preview.commands.join('; ')}`,
        data: { skipped: true, msg: 'not run in check mode' },
        preview,
      };
    return {
      status: 'changed',
      msg: preview.summary,
      data: { changed: true, msg: preview.summary, ...(outcome.rebootRequired ? { reboot_required: true } : {}) },
      preview,
    };
  }
  recordUndo(outcome.undo); // on disk before the host is touched
  const applied = await impl.apply(ctx, args, outcome.change);
  const data: Record<string, unknown> = { changed: true, msg: applied.message, ...(applied.data ?? {}) };
  if (outcome.rebootRequired) data.reboot_required = true;
  if (data.failed === true) return { status: 'failed', msg: String(data.msg ?? applied.message), data, preview };
  return { status: 'changed', msg: applied.message, data, preview };
}
