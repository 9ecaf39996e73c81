/**
 * Every event rollgate emits, as one discriminated union. Renderers (listr2, plain, JSON lines) and the journal
 * consume these; nothing that produces them prints. Events never carry secrets: a run's bus scrubs its secret
 * values (scrubWith) before any listener sees an event.
 */
import type { HostOutcomeStatus } from '../core/host-status.js';

/** Milliseconds since the epoch. */
export type Timestamp = number;

/** How one host ended in a fleet run (src/executor/fleet.ts). */
export type HostStatus = 'ok' | 'failed' | 'unreachable';

/** How one task ended on one host (src/executor/): `ok` includes "nothing to change". */
export type TaskStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

/** A host's counters at the end of a run, as ansible-playbook's PLAY RECAP (`ok` counts changed tasks too). */
export interface HostRecap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

/** What a change would do or did: files before/after (for --diff) and the commands it runs. */
export interface TaskPreview {
  summary: string;
  files: Array<{ path: string; before: string | null; after: string | null }>;
  commands: string[];
}

export type RollgateEvent =
  /** `rollgate run`: a playbook run begins (check: nothing will be applied). */
  | {
      type: 'run.started';
      at: Timestamp;
      runId: string;
      playbook: string;
      check: boolean;
      diff: boolean;
      hosts: string[];
    }
  | { type: 'play.started'; at: Timestamp; play: string; hosts: string[] }
  /** A task (or handler) starts on the play's hosts; position is file:line:col. */
  | { type: 'task.started'; at: Timestamp; task: string; position: string; handler: boolean }
  /** One host's result of a task (one per loop item, with `item`, then the task's own). Never carries no_log output. */
  | {
      type: 'task.result';
      at: Timestamp;
      host: string;
      task: string;
      /** The task's module (absent for the `connect` pseudo-task). */
      module?: string;
      status: TaskStatus;
      item?: string;
      ignored?: boolean;
      message?: string;
      preview?: TaskPreview;
    }
  | { type: 'play.recap'; at: Timestamp; hosts: Record<string, HostRecap> }
  /** undoHosts: hosts that failed (or went unreachable) with changes the journal can undo (`rollgate undo RUN`). */
  | { type: 'run.finished'; at: Timestamp; runId: string; failed: boolean; ms: number; undoHosts?: string[] }
  /** A fleet run begins: every host it will contact, and how many at once. */
  | { type: 'fleet.started'; at: Timestamp; hosts: string[]; forks: number }
  /** Counts of host outcomes and wall time of the whole run. */
  | { type: 'fleet.finished'; at: Timestamp; ok: number; failed: number; unreachable: number; ms: number }
  /** A host's work is over. kind says why it failed (a ConnectionFailureKind, 'command' or 'error'). */
  | {
      type: 'host.finished';
      at: Timestamp;
      host: string;
      status: HostStatus;
      kind?: string;
      message?: string;
      ms: number;
    }
  /** What an ad-hoc command printed (rollgate exec); never emitted for module commands. */
  | {
      type: 'command.output';
      at: Timestamp;
      host: string;
      stdout: string;
      stderr: string;
      exitCode: number | null;
      signal?: string;
    }
  | { type: 'host.connecting'; at: Timestamp; host: string }
  | { type: 'host.connected'; at: Timestamp; host: string; ms: number }
  | { type: 'host.failed'; at: Timestamp; host: string; kind: string; message: string }
  | { type: 'command.started'; at: Timestamp; host: string; command: string }
  | { type: 'command.finished'; at: Timestamp; host: string; exitCode: number | null; ms: number }
  /** A reboot's progress: requested, a login attempt while waiting, back (boot_id changed), or timed out. */
  | {
      type: 'host.reboot';
      at: Timestamp;
      host: string;
      phase: 'requested' | 'waiting' | 'back' | 'timeout';
      ms: number;
      detail?: string;
    }
  /** Guests drained before a reboot or started again after it: one line per step. */
  | { type: 'host.guests'; at: Timestamp; host: string; message: string }
  | RolloutEvent;

/** How a host ended its turn in a staged rollout (src/strategy/threshold.ts). */
export type RolloutHostStatus = HostOutcomeStatus;

/** One check of a post-boot verification: what was expected, what was found. */
export interface VerificationCheck {
  name: string;
  ok: boolean;
  /** Required checks fail the host; wanted ones are reported only (as greenboot does). */
  required: boolean;
  expected: string;
  actual: string;
  /** The snapshot lines that show `actual` (absent from journals written before checks kept them). */
  evidence?: string[];
}

/** Staged rollout (issue 7): phases, batches, per-host steps, verification, rollback, needs a person. */
export type RolloutEvent =
  | {
      type: 'rollout.started';
      at: Timestamp;
      runId: string;
      hosts: string[];
      batches: Array<{ phase: 'canary' | 'batch'; index: number; hosts: string[] }>;
      kinds: Record<string, string[]>;
    }
  /** Found while planning, before any host is changed: what the operator should know (a host no power driver can reset). */
  | {
      type: 'rollout.warning';
      at: Timestamp;
      runId: string;
      host: string;
      /** no_power_driver: a hang cannot be reset; outside_window: the host's change will wait for (or stop at) its window. */
      code: 'no_power_driver' | 'outside_window';
      message: string;
      hint: string;
    }
  | {
      type: 'rollout.batch_started';
      at: Timestamp;
      runId: string;
      phase: 'canary' | 'batch';
      index: number;
      hosts: string[];
    }
  | {
      type: 'rollout.paused';
      at: Timestamp;
      runId: string;
      before: { phase: 'canary' | 'batch'; index: number };
      pause: 'approval' | 'seconds';
      seconds?: number;
    }
  | { type: 'rollout.resumed'; at: Timestamp; runId: string; approvedBy?: string }
  | {
      type: 'rollout.batch_finished';
      at: Timestamp;
      runId: string;
      phase: 'canary' | 'batch';
      index: number;
      outcomes: Array<{ host: string; status: RolloutHostStatus }>;
    }
  | {
      type: 'rollout.host_step';
      at: Timestamp;
      runId: string;
      host: string;
      step: string;
      status: 'started' | 'ok' | 'changed' | 'skipped' | 'failed';
      message?: string;
      ms?: number;
    }
  | {
      type: 'rollout.verification';
      at: Timestamp;
      runId: string;
      host: string;
      against: 'candidate' | 'known_good';
      ok: boolean;
      checks: VerificationCheck[];
    }
  | {
      type: 'rollout.rollback';
      at: Timestamp;
      runId: string;
      host: string;
      action: 'undo' | 'reboot' | 'power_reset' | 'release' | 'wait';
      reason: string;
    }
  | {
      type: 'rollout.needs_person';
      at: Timestamp;
      runId: string;
      host: string;
      reason: string;
      evidence: Record<string, string>;
    }
  | {
      type: 'rollout.host_finished';
      at: Timestamp;
      runId: string;
      host: string;
      status: RolloutHostStatus;
      message: string;
      ms: number;
    }
  | { type: 'rollout.stopped'; at: Timestamp; runId: string; reason: string; message: string; untouched: string[] }
  | {
      type: 'rollout.finished';
      at: Timestamp;
      runId: string;
      result: RolloutResult;
      counts: Record<RolloutHostStatus, number>;
      ms: number;
    };

/** How a whole rollout ended; the CLI maps it to the exit status. */
export type RolloutResult = 'succeeded' | 'failed' | 'rolled_back' | 'needs_person' | 'lock_refused';

export type EventListener = (event: RollgateEvent) => void;

/** A tiny synchronous bus: producers call emit, consumers subscribe. */
export class EventBus {
  private listeners: EventListener[] = [];
  private filter: ((event: RollgateEvent) => RollgateEvent) | undefined;
  on(listener: EventListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }
  /** Pass every event through `scrub` before any listener sees it (the run's secret values come out here). */
  scrubWith(scrub: (event: RollgateEvent) => RollgateEvent): void {
    this.filter = scrub;
  }
  emit(event: RollgateEvent): void {
    const shown = this.filter ? this.filter(event) : event;
    for (const l of this.listeners) l(shown);
  }
}
