/** SQLite rows to journal types (snake_case columns, JSON text columns). */
import type {
  EventRow,
  RunHostRow,
  RunKind,
  RunRow,
  RunStatus,
  SnapshotRow,
  StepRow,
  StepStatus,
} from './journal-types.js';

type Row = Record<string, unknown>;

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const parse = <T>(v: unknown, fallback: T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : fallback);

export function toRun(r: unknown): RunRow {
  const row = r as Row;
  return {
    id: String(row.id),
    kind: row.kind as RunKind,
    status: row.status as RunStatus,
    playbook: text(row.playbook),
    inventory: parse<string[]>(row.inventory, []),
    limit: text(row.limit_pattern),
    options: parse<Record<string, unknown>>(row.options, {}),
    parentRunId: text(row.parent_run_id),
    controller: String(row.controller),
    startedAt: Number(row.started_at),
    finishedAt: num(row.finished_at),
  };
}

export function toRunHost(r: unknown): RunHostRow {
  const row = r as Row;
  return {
    runId: String(row.run_id),
    host: String(row.host),
    status: String(row.status),
    detail: text(row.detail),
    vars: parse<Record<string, unknown>>(row.vars, {}),
    updatedAt: Number(row.updated_at),
    identity: row.host_key
      ? { address: String(row.address), port: Number(row.port), hostKey: String(row.host_key) }
      : null,
  };
}

export function toStep(r: unknown): StepRow {
  const row = r as Row;
  return {
    id: Number(row.id),
    runId: String(row.run_id),
    host: String(row.host),
    task: String(row.task),
    module: String(row.module),
    args: parse<Record<string, unknown>>(row.args, {}),
    status: row.status as StepStatus,
    message: text(row.message),
    data: parse<Record<string, unknown> | null>(row.data, null),
    startedAt: Number(row.started_at),
    finishedAt: num(row.finished_at),
    undoneAt: num(row.undone_at),
    undoneBy: text(row.undone_by),
    hasUndo: row.record !== null && row.record !== undefined,
  };
}

export function toSnapshot(r: unknown): SnapshotRow {
  const row = r as Row;
  return {
    id: Number(row.id),
    runId: String(row.run_id),
    host: String(row.host),
    phase: String(row.phase),
    takenAt: Number(row.taken_at),
    data: parse<unknown>(row.data, null),
  };
}

export function toEvent(r: unknown): EventRow {
  const row = r as Row;
  return {
    id: Number(row.id),
    runId: String(row.run_id),
    host: text(row.host),
    type: String(row.type),
    at: Number(row.at),
    data: parse<Record<string, unknown>>(row.data, {}),
  };
}
