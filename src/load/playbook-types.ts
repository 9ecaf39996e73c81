/**
 * The typed playbook: what `loadPlaybook` returns once the YAML has passed validation. Every node keeps the
 * SourcePosition it came from so later errors (undefined variable, failed template) can name file:line:col.
 */
import type { SourcePosition } from '../core/config-error.js';
import type { ModuleName } from '../modules/registry.js';
import type { SerialStep } from '../strategy/serial.js';
export type { SerialStep } from '../strategy/serial.js';

/** A `when` / `changed_when` / `failed_when` / `assert.that` expression, compiled at load time. */
export interface Condition {
  /** Jinja-like expression without `{{ }}`, e.g. `ansible_facts.cpu_vendor == 'intel'`. */
  source: string;
  position: SourcePosition;
}

/** Keywords shared by tasks and blocks. Inherited by the tasks inside a block. */
export interface NodeCommon {
  name?: string;
  position: SourcePosition;
  /** All must hold; empty = always. */
  when: Condition[];
  tags: string[];
  /** Unset = inherit from the block or play. */
  become?: boolean;
  ignoreErrors?: boolean;
  /** true = always check mode, false = run for real even under --check; unset = the run's mode. */
  checkMode?: boolean;
  /** Variables of this node (templated lazily when used). */
  vars: Record<string, unknown>;
  /** Keep this node's output (args, results) out of events, the journal and the terminal. */
  noLog?: boolean;
}

export interface Task extends NodeCommon {
  kind: 'task';
  module: ModuleName;
  /** Module options as written (still templated at run time). */
  args: Record<string, unknown>;
  argsPosition: SourcePosition;
  register?: string;
  /** Handler names or `listen` topics. */
  notify: string[];
  /** A list, or a string expression producing one; unset = no loop. */
  loop?: unknown;
  /** Name the loop item is bound to (loop_control.loop_var), default `item`. */
  loopVar: string;
  /** Optional label shown for each item (loop_control.label), templated. */
  loopLabel?: string;
  changedWhen?: Condition[];
  failedWhen?: Condition[];
  /** Seconds each command of the task may run (Ansible's task `timeout`); unset = no limit beyond the module's. */
  timeoutSeconds?: number;
}

/** `meta: flush_handlers` and friends: steering the play rather than touching a host. */
export interface MetaTask extends NodeCommon {
  kind: 'meta';
  action: MetaAction;
}
export type MetaAction = 'flush_handlers' | 'end_play' | 'end_host' | 'noop';

export interface Block extends NodeCommon {
  kind: 'block';
  block: TaskNode[];
  rescue: TaskNode[];
  always: TaskNode[];
}

export type TaskNode = Task | MetaTask | Block;

/** A handler is a task that runs at the end of the play (or at flush_handlers) when notified. */
export interface Handler extends Task {
  /** Topics it answers besides its own name. */
  listen: string[];
}

export interface Play {
  name: string;
  position: SourcePosition;
  /** Host pattern, the same syntax as --limit (resolved with selectHosts). */
  hosts: string;
  hostsPosition: SourcePosition;
  vars: Record<string, unknown>;
  become?: boolean;
  /** Take the health snapshot before the first task and expose it as `snapshot` and `findings`. Default false. */
  gatherFacts: boolean;
  /** `serial` batches, for `run` and `rollout` alike (strategy/serial.ts); unset = all hosts at once. */
  serial?: SerialStep[];
  /** Stop the play when more than this percentage of a batch failed (Ansible's meaning). */
  maxFailPercentage?: number;
  /** Stop everything at the first failed host (Ansible's any_errors_fatal). */
  anyErrorsFatal: boolean;
  /** `no_log_vars`: variables whose values are secrets (scrubbed everywhere), beside the secret-looking names. */
  noLogVars: string[];
  /** `rollout:` as written (validated against its schema); read by `rollgate rollout` (src/strategy/settings.ts). */
  rollout?: Record<string, unknown>;
  rolloutPosition?: SourcePosition;
  tags: string[];
  preTasks: TaskNode[];
  tasks: TaskNode[];
  postTasks: TaskNode[];
  handlers: Handler[];
}

export interface Playbook {
  file: string;
  plays: Play[];
}
