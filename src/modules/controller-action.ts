/**
 * Modules that run on the controller and touch no host (debug, set_fact, fail, assert, pause): they read the
 * task's variables and say ok / changed / failed, optionally setting host variables (facts). They have no undo
 * because they change nothing; the executor still journals each run.
 */
import type { ModuleContext, ModuleSpec } from './module.js';

export interface ControllerContext extends ModuleContext {
  /** Evaluate a bare expression (assert `that`, debug `var`) in the task's scope; throws when it cannot. */
  evaluate(expression: string): unknown;
  /** Run `work` once for this task across all hosts of the batch (pause prompts once, not per host). */
  once<T>(work: () => Promise<T>): Promise<T>;
}

export interface ControllerResult {
  status: 'ok' | 'changed' | 'failed';
  msg?: string;
  /** Extra fields of the registered result. */
  data?: Record<string, unknown>;
  /** Host variables to set for later tasks (set_fact). */
  facts?: Record<string, unknown>;
}

export interface ControllerAction<Args = Record<string, unknown>> extends ModuleSpec {
  kind: 'controller';
  /** Options holding bare expressions: passed to run() as written, not templated first. */
  expressionOptions: readonly string[];
  run(ctx: ControllerContext, args: Args): Promise<ControllerResult>;
}

/** Marks host modules that, like Ansible's command/shell, do not run in check mode (their effect is unknown). */
export interface CheckModeSkips {
  checkModeSkips: true;
  /** Options whose `{{ }}` values become shell words: each value quoted (shell) or kept one argv word (command). */
  shellOptions: readonly string[];
}
