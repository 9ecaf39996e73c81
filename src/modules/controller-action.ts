/**
 * Modules that run on the controller and touch no host (debug, set_fact, fail, assert, pause): they read the
 * task's variables and say ok / changed / failed, optionally setting host variables (facts). They have no undo
 * because they change nothing; the executor still journals each run.
 */
import type { ModuleContext, ModuleSpec } from './module.js';

/** This host's snapshots in the run's journal (snapshot / verify modules). */
export interface SnapshotLog {
  /** Journal a snapshot of this host under `phase` ('snapshot', 'verify', ...). */
  record(phase: string, snapshot: unknown): void;
  /** The run's first snapshot of this host, if one was taken. */
  first(): { phase: string; takenAt: number; data: unknown } | undefined;
}

export interface ControllerContext extends ModuleContext {
  /** Evaluate a bare expression (assert `that`, debug `var`) in the task's scope; throws when it cannot. */
  evaluate(expression: string): unknown;
  /** Run `work` once for this task across all hosts of the batch (pause prompts once, not per host). */
  once<T>(work: () => Promise<T>): Promise<T>;
  /** The run's snapshots of this host; absent when the runner keeps no journal. */
  snapshots?: SnapshotLog;
}

export interface ControllerResult {
  /** skipped: not judged in check mode (verify after changes that were only previewed). */
  status: 'ok' | 'changed' | 'failed' | 'skipped';
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
