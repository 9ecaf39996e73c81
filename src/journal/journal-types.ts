/** Rows of the journal as the rest of rollgate sees them. Times are milliseconds since the epoch. */
import type { UndoRecord } from '../modules/module.js';

export type RunKind = 'run' | 'check' | 'rollout' | 'undo' | 'resume';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'rolled_back' | 'needs_person' | 'interrupted';
/** pending: journaled before it runs; applied: it changed the host; ok: nothing to change; failed; skipped. */
export type StepStatus = 'pending' | 'applied' | 'ok' | 'failed' | 'skipped';

export interface RunRow {
  id: string;
  kind: RunKind;
  status: RunStatus;
  playbook: string | null;
  inventory: string[];
  limit: string | null;
  options: Record<string, unknown>;
  /** For an undo or resume run: the run it acts on. */
  parentRunId: string | null;
  /** hostname:pid of the controller process that created the run. */
  controller: string;
  startedAt: number;
  finishedAt: number | null;
}

export interface NewRun {
  kind: RunKind;
  playbook?: string;
  inventory?: string[];
  limit?: string;
  /** Command-line options worth keeping (check, tags ...); secrets are redacted. */
  options?: Record<string, unknown>;
  parentRunId?: string;
  /** Default: a fresh id like 20250114-093012-4f2a. */
  id?: string;
}

export interface RunHostRow {
  runId: string;
  host: string;
  status: string;
  detail: string | null;
  vars: Record<string, unknown>;
  updatedAt: number;
  /** Where the run first reached the host (null until it connected). */
  identity: HostIdentity | null;
}

/** The machine behind an inventory name when a run reached it. */
export interface HostIdentity {
  address: string;
  port: number;
  /** OpenSSH-style fingerprint of the host key it presented: SHA256:base64. */
  hostKey: string;
}

export interface StepRow {
  id: number;
  runId: string;
  host: string;
  task: string;
  module: string;
  args: Record<string, unknown>;
  status: StepStatus;
  message: string | null;
  data: Record<string, unknown> | null;
  startedAt: number;
  finishedAt: number | null;
  undoneAt: number | null;
  /** The undo run that reverted this step. */
  undoneBy: string | null;
  hasUndo: boolean;
}

export interface NewStep {
  task: string;
  module: string;
  args?: Record<string, unknown>;
}

export interface StepFinish {
  status: Exclude<StepStatus, 'pending'>;
  message?: string;
  data?: Record<string, unknown>;
}

export interface UndoableStep extends StepRow {
  undo: UndoRecord;
}

export interface SnapshotRow {
  id: number;
  runId: string;
  host: string;
  /** e.g. 'before', 'after', 'after_rollback'. */
  phase: string;
  takenAt: number;
  data: unknown;
}

export interface EventRow {
  id: number;
  runId: string;
  host: string | null;
  type: string;
  at: number;
  data: Record<string, unknown>;
}
