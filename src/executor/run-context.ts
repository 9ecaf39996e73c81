/**
 * What the executor's functions share: the run (journal, events, options, every host's session), the play being
 * run, and what a task inherits from its enclosing blocks. Plain data; built by run-playbook.ts and play-run.ts.
 */
import type { Connection } from '../connection/connection.js';
import type { EventBus } from '../events/events.js';
import type { Journal } from '../journal/journal.js';
import type { Inventory } from '../load/inventory.js';
import type { Condition } from '../load/playbook-types.js';
import type { VarLayer } from '../template/vars.js';
import type { SecretSet } from '../secrets/secret-set.js';
import type { PlannedPlay } from '../plan/plan.js';
import type { PlaybookAction } from '../modules/registry.js';
import type { HostSession } from './host-session.js';
import type { MachineClaim } from './machine-identity.js';

export interface RunOptions {
  /** --check: modules only compute what they would change; nothing is applied. */
  check: boolean;
  /** --diff: previews carry file contents before/after for unified diffs. */
  diff: boolean;
  /** -e KEY=VALUE: highest precedence, templated like other operator variables. */
  extraVars: Record<string, unknown>;
  /** Hosts worked on at once within one task. Default 50. */
  forks: number;
}

export interface RunContext {
  runId: string;
  journal: Journal;
  bus: EventBus;
  options: RunOptions;
  inventory: Inventory;
  playbookDir: string;
  /** Every host of the run by name; sessions persist across plays. */
  sessions: Map<string, HostSession>;
  /** Group name -> hosts, for the `groups` magic variable. */
  groups: Record<string, string[]>;
  /** Aborted when the run must stop after the tasks in flight (SIGINT / SIGTERM, lease lost); reason says why. */
  stop?: AbortSignal;
  /** How each connection's machine is claimed for the run after the handshake (absent in check mode). */
  claim?: MachineClaim;
  /** The run's secret values; the journal and the event bus scrub them (grows as tasks template secrets). */
  secrets: SecretSet;
}

export interface PlayContext {
  run: RunContext;
  planned: PlannedPlay;
  /** The hosts of this play (or of this serial batch), in inventory order. */
  hosts: HostSession[];
  /** Work done once per task for all hosts (pause prompts), keyed by task. */
  once: Map<object, Promise<unknown>>;
  /** Open a fresh connection to the host (reboot); absent when the runner cannot. */
  reconnect?: (host: HostSession) => Promise<Connection>;
  /**
   * Modules this play runs differently, by name (the staged rollout's trial `reboot` and deferred `verify`);
   * looked up before the normal implementations.
   */
  modules?: Readonly<Record<string, PlaybookAction>>;
}

/** What a task inherits from the blocks around it (inner blocks win; `when` conditions accumulate). */
export interface Inherited {
  when: Condition[];
  blockVars: VarLayer[];
  become?: boolean;
  ignoreErrors?: boolean;
  checkMode?: boolean;
  noLog?: boolean;
  /** Inside a `rescue:` section (ansible_failed_task / ansible_failed_result are set). */
  rescuing?: boolean;
}

export const noInheritance: Inherited = { when: [], blockVars: [] };
