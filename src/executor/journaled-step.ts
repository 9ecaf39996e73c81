/**
 * One change-module step on one host, journaled the way undo and resume rely on: the step is written `pending`
 * before anything runs, its undo record is written before apply, and the outcome after. Check mode journals
 * what would change and applies nothing. Runners (rollgate run, the rollout) call this for every action task.
 */
import { ConnectionError } from '../connection/connection.js';
import type { Journal } from '../journal/journal.js';
import { ModuleFailure, type ActionModule, type ChangePreview, type ModuleContext } from '../modules/module.js';

export interface StepOutcome {
  stepId: number;
  /** ok: nothing to change; changed: applied (or, in check mode, would change); failed. */
  status: 'ok' | 'changed' | 'failed';
  message: string;
  /** What apply returned (registered results: target_kernel, boot_id ...). */
  data?: Record<string, unknown>;
  preview?: ChangePreview;
  rebootRequired?: boolean;
  retryable?: boolean;
  /** Exit status and stderr tail when a command failed. */
  command?: { exitCode: number | null; stderrTail: string };
}

export interface StepInput<A> {
  journal: Journal;
  runId: string;
  ctx: ModuleContext;
  /** Task name as the play says it. */
  task: string;
  module: ActionModule<A, unknown>;
  args: A;
}

function failed(journal: Journal, stepId: number, err: unknown): StepOutcome {
  const message = err instanceof Error ? err.message : String(err);
  journal.finishStep(stepId, { status: 'failed', message });
  const outcome: StepOutcome = { stepId, status: 'failed', message, retryable: err instanceof ModuleFailure || err instanceof ConnectionError ? err.retryable : false };
  if (err instanceof ModuleFailure && err.command) outcome.command = err.command;
  return outcome;
}

/**
 * Run check (and apply unless check mode). A ConnectionError is journaled as a failed step and rethrown, so
 * the runner can mark the host unreachable; every other failure comes back as a `failed` outcome.
 */
export async function runJournaledStep<A>(input: StepInput<A>): Promise<StepOutcome> {
  const { journal, runId, ctx, module } = input;
  const stepId = journal.beginStep(runId, ctx.host, { task: input.task, module: module.name, args: input.args as Record<string, unknown> });
  try {
    const check = await module.check(ctx, input.args);
    if (check.status === 'no_change') {
      journal.finishStep(stepId, { status: 'ok', message: check.reason });
      return { stepId, status: 'ok', message: check.reason };
    }
    const common = { preview: check.preview, ...(check.rebootRequired ? { rebootRequired: true } : {}) };
    if (ctx.checkMode) {
      journal.finishStep(stepId, { status: 'ok', message: `would change: ${check.preview.summary}`, data: { check_mode: true, preview: check.preview } });
      return { stepId, status: 'changed', message: check.preview.summary, ...common };
    }
    journal.recordUndo(stepId, check.undo);
    const applied = await module.apply(ctx, input.args, check.change);
    journal.finishStep(stepId, { status: 'applied', message: applied.message, ...(applied.data ? { data: applied.data } : {}) });
    return { stepId, status: 'changed', message: applied.message, ...(applied.data ? { data: applied.data } : {}), ...common };
  } catch (err) {
    const outcome = failed(journal, stepId, err);
    if (err instanceof ConnectionError) throw err;
    return outcome;
  }
}
