/**
 * The controller's journal: every run, its hosts, each step written before and after it runs, the undo record of
 * each change (written before the change is applied), snapshots, events and run leases. Kept in a store
 * (store.ts): one SQLite database (WAL) by default, or a PostgreSQL database several controllers share
 * (`--journal postgresql://...`). Everything stored goes through redactSecrets. Synchronous on purpose: a row is
 * stored when the call returns.
 */
import type Database from 'better-sqlite3';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { RollgateEvent } from '../events/events.js';
import type { UndoRecord } from '../modules/module.js';
import { retryBusy } from './journal-busy.js';
import { openStore } from './open-store.js';
import type { JournalStore } from './store.js';
import { SqliteStore } from './sqlite-store.js';
import { PgStore } from './pg-store.js';
import { lazyPgFleetLock } from './pg-fleet-lock-lazy.js';
import { redactSecrets, redactText } from './redact.js';
import { SecretSet } from '../secrets/secret-set.js';
import type {
  EventRow,
  HostIdentity,
  NewRun,
  NewStep,
  RunHostRow,
  RunRow,
  RunStatus,
  SnapshotRow,
  StepFinish,
  StepRow,
  UndoableStep,
} from './journal-types.js';
import type { FleetLock } from './fleet-lock.js';
import { SqliteFleetLock } from './sqlite-fleet-lock.js';
import { RunLeases } from './run-lease.js';
import { toEvent, toRun, toRunHost, toSnapshot, toStep } from './journal-rows.js';
import { InternalError } from '../core/internal-error.js';
import { sameDatabase } from './pg-url.js';

const json = (value: unknown, secrets?: SecretSet): string => JSON.stringify(redactSecrets(value ?? {}, secrets));

/** A fresh run id, sortable by start time: 20250114-093012-4f2a. */
export function newRunId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export class Journal {
  /** Told once when a write has to wait for another process holding the journal (the CLI prints it). */
  onBusyWait: (() => void) | undefined;
  /** The run's secret values, scrubbed from every row written (undo records' file bytes excepted). */
  secrets = new SecretSet();
  /** The PostgreSQL journal's fleet lock, one per journal (its connections are closed through it). */
  private sharedLock: FleetLock | undefined;
  /** Runs whose lease this journal took and has not let go (what a command stopped by a lost journal names). */
  readonly runsHeld = new Set<string>();

  private constructor(
    /** For src/journal/ and tests only: the rest of src/ goes through the methods (eslint.config.js refuses SQL). */
    readonly store: JournalStore,
    /** Where the journal is, for messages: its file, or its PostgreSQL URL without the password. */
    readonly path: string,
    /** The PostgreSQL URL the journal was opened with (its password included): the fleet lock connects to it. */
    private readonly url?: string,
  ) {}

  /**
   * Open `spec` — a file (created 0600 in a 0700 directory; ':memory:' for tests) or a postgresql:// URL — and
   * migrate it to the latest schema. A journal that cannot be opened or reached, is not a journal, or was written
   * by a newer rollgate throws JournalUnusableError (what is wrong and what to do); a SQLite journal locked by
   * another process is waited for.
   */
  static open(spec: string, options: { onBusyWait?: () => void; onReconnect?: (why: string) => void } = {}): Journal {
    const store = openStore(spec, options.onBusyWait);
    if (store instanceof PgStore) store.onReconnect = options.onReconnect;
    const journal = new Journal(store, store.where, store.kind === 'postgres' ? spec : undefined);
    journal.onBusyWait = options.onBusyWait;
    return journal;
  }

  /** For src/journal/ and tests only: the SQLite database of a journal kept in SQLite. */
  get db(): Database.Database {
    if (this.store instanceof SqliteStore) return this.store.db;
    throw new InternalError(`the journal ${this.path} is in PostgreSQL, not SQLite`);
  }

  /** Whether several controllers share this journal (it is in PostgreSQL). */
  get shared(): boolean {
    return this.store.kind === 'postgres';
  }

  /** Whether a PostgreSQL URL names this journal's own database (a fleet lock given there is this one). */
  sharesDatabaseWith(url: string): boolean {
    return this.url !== undefined && sameDatabase(this.url, url);
  }

  /** One write (a statement or a transaction), waited for while another process holds the journal. */
  write<T>(fn: () => T): T {
    return retryBusy(this.path, fn, this.onBusyWait);
  }

  /**
   * The fleet lock kept in this journal's database: SQLite's for one controller, or, for a journal in PostgreSQL,
   * the shared one there (pg-fleet-lock.ts). The composition root (cli/session.ts) chooses the lock a command
   * uses, this one or one given by --fleet-lock, and passes it to the executor.
   */
  fleetLock(): FleetLock {
    if (this.url !== undefined)
      return (this.sharedLock ??= lazyPgFleetLock(this.url, () =>
        this.store instanceof PgStore ? this.store.lostError : undefined,
      ));
    return new SqliteFleetLock(this.db, Date.now, (fn) => this.write(fn));
  }

  /** The leases of runs held by live controllers (run-lease.ts). */
  leases(): RunLeases {
    return new RunLeases(this.store, (fn) => this.write(fn), this.runsHeld);
  }

  /** False once closed. */
  get isOpen(): boolean {
    return this.store.isOpen;
  }

  close(): void {
    this.store.close();
  }

  createRun(input: NewRun): RunRow {
    const id = input.id ?? newRunId();
    this.write(() =>
      this.store.run(
        `INSERT INTO runs (id, kind, status, playbook, inventory, limit_pattern, options, parent_run_id, controller, started_at)
         VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)`,
        id,
        input.kind,
        input.playbook ?? null,
        JSON.stringify(input.inventory ?? []),
        input.limit ?? null,
        json(input.options, this.secrets),
        input.parentRunId ?? null,
        `${hostname()}:${process.pid}`,
        Date.now(),
      ),
    );
    const run = this.getRun(id);
    if (!run) throw new InternalError(`run ${id} was written but cannot be read back`);
    return run;
  }

  finishRun(runId: string, status: Exclude<RunStatus, 'running'>): void {
    this.write(() =>
      this.store.run('UPDATE runs SET status = ?, finished_at = ? WHERE id = ?', status, Date.now(), runId),
    );
  }

  /** Replace a run's stored options (the rollout keeps its plan there). */
  setRunOptions(runId: string, options: Record<string, unknown>): void {
    this.write(() => this.store.run('UPDATE runs SET options = ? WHERE id = ?', JSON.stringify(options), runId));
  }

  getRun(runId: string): RunRow | undefined {
    const row = this.store.get('SELECT * FROM runs WHERE id = ?', runId);
    return row ? toRun(row) : undefined;
  }

  /** Newest first. */
  listRuns(limit = 50): RunRow[] {
    return this.store.all('SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT ?', limit).map(toRun);
  }

  addHost(runId: string, host: string, vars: Record<string, unknown> = {}, status = 'pending'): void {
    this.write(() =>
      this.store.run(
        `INSERT INTO run_hosts (run_id, host, status, vars, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (run_id, host) DO UPDATE SET vars = excluded.vars, updated_at = excluded.updated_at`,
        runId,
        host,
        status,
        json(vars, this.secrets),
        Date.now(),
      ),
    );
  }

  setHostStatus(runId: string, host: string, status: string, detail?: string): void {
    this.write(() =>
      this.store.run(
        `INSERT INTO run_hosts (run_id, host, status, detail, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (run_id, host) DO UPDATE SET status = excluded.status, detail = excluded.detail, updated_at = excluded.updated_at`,
        runId,
        host,
        status,
        redactText(detail, this.secrets) ?? null,
        Date.now(),
      ),
    );
  }

  /** Record where a host of the run was reached, the first time only (what undo and resume compare with). */
  recordHostIdentity(runId: string, host: string, id: HostIdentity): void {
    this.write(() =>
      this.store.run(
        `INSERT INTO run_hosts (run_id, host, status, updated_at, address, port, host_key) VALUES (?, ?, 'pending', ?, ?, ?, ?)
                ON CONFLICT (run_id, host) DO UPDATE SET address = excluded.address, port = excluded.port, host_key = excluded.host_key
                WHERE run_hosts.host_key IS NULL`,
        runId,
        host,
        Date.now(),
        id.address,
        id.port,
        id.hostKey,
      ),
    );
  }

  /** Where the run reached the host, if it did. */
  hostIdentity(runId: string, host: string): HostIdentity | null {
    const row = this.store.get('SELECT * FROM run_hosts WHERE run_id = ? AND host = ?', runId, host);
    return row ? toRunHost(row).identity : null;
  }

  listHosts(runId: string): RunHostRow[] {
    return this.store.all('SELECT * FROM run_hosts WHERE run_id = ? ORDER BY host', runId).map(toRunHost);
  }

  /** Journal a step as pending before it runs; returns its id. */
  beginStep(runId: string, host: string, step: NewStep): number {
    const r = this.write(() =>
      this.store.get(
        `INSERT INTO steps (run_id, host, task, module, args, status, started_at) VALUES (?, ?, ?, ?, ?, 'pending', ?) RETURNING id`,
        runId,
        host,
        this.secrets.scrubText(step.task),
        step.module,
        json(step.args, this.secrets),
        Date.now(),
      ),
    );
    return Number(r?.id);
  }

  /**
   * Store how to undo a step. Call before applying it. Not value-scrubbed: a file backup must restore byte for
   * byte even when it holds a secret; nothing prints undo records (docs/safety.md).
   */
  recordUndo(stepId: number, undo: UndoRecord): void {
    this.write(() =>
      this.store.run(
        'INSERT INTO undo_records (step_id, record, recorded_at) VALUES (?, ?, ?) ON CONFLICT (step_id) DO UPDATE SET record = excluded.record',
        stepId,
        JSON.stringify(redactSecrets(undo)),
        Date.now(),
      ),
    );
  }

  finishStep(stepId: number, finish: StepFinish): void {
    this.write(() =>
      this.store.run(
        'UPDATE steps SET status = ?, message = ?, data = ?, finished_at = ? WHERE id = ?',
        finish.status,
        redactText(finish.message, this.secrets) ?? null,
        finish.data ? json(finish.data, this.secrets) : null,
        Date.now(),
        stepId,
      ),
    );
  }

  /** Say on every step of the run still pending why it never finished (a forced stop); their status stays pending. */
  notePendingSteps(runId: string, message: string): void {
    this.write(() =>
      this.store.run(
        "UPDATE steps SET message = ? WHERE run_id = ? AND status = 'pending'",
        redactText(message, this.secrets),
        runId,
      ),
    );
  }

  getStep(stepId: number): StepRow | undefined {
    const row = this.store.get(`${STEP_SELECT} WHERE s.id = ?`, stepId);
    return row ? toStep(row) : undefined;
  }

  listSteps(runId: string, host?: string): StepRow[] {
    const rows = host
      ? this.store.all(`${STEP_SELECT} WHERE s.run_id = ? AND s.host = ? ORDER BY s.id`, runId, host)
      : this.store.all(`${STEP_SELECT} WHERE s.run_id = ? ORDER BY s.id`, runId);
    return rows.map(toStep);
  }

  /**
   * Steps of a run on a host that have an undo record and are not undone yet, newest first: pending steps
   * (interrupted mid-apply) and failed ones included, with their status: undo gives them only what is safe
   * whatever they did (their file bytes, never a reversal; see modules/undo.ts).
   */
  undoableSteps(runId: string, host: string): UndoableStep[] {
    const rows = this.store.all(
      `${STEP_SELECT} WHERE s.run_id = ? AND s.host = ? AND u.record IS NOT NULL AND s.undone_at IS NULL
                AND s.status IN ('pending', 'applied', 'failed') ORDER BY s.id DESC`,
      runId,
      host,
    ) as Array<Record<string, unknown>>;
    return rows.map((row) => ({ ...toStep(row), undo: JSON.parse(String(row.record)) as UndoRecord }));
  }

  markUndone(stepId: number, byRunId: string): void {
    this.write(() =>
      this.store.run('UPDATE steps SET undone_at = ?, undone_by = ? WHERE id = ?', Date.now(), byRunId, stepId),
    );
  }

  addSnapshot(runId: string, host: string, phase: string, data: unknown): number {
    const r = this.write(() =>
      this.store.get(
        'INSERT INTO snapshots (run_id, host, phase, taken_at, data) VALUES (?, ?, ?, ?, ?) RETURNING id',
        runId,
        host,
        phase,
        Date.now(),
        JSON.stringify(redactSecrets(data, this.secrets)),
      ),
    );
    return Number(r?.id);
  }

  /** The newest snapshot of a host in a run, optionally of one phase. */
  latestSnapshot(runId: string, host: string, phase?: string): SnapshotRow | undefined {
    const row = phase
      ? this.store.get(
          'SELECT * FROM snapshots WHERE run_id = ? AND host = ? AND phase = ? ORDER BY id DESC LIMIT 1',
          runId,
          host,
          phase,
        )
      : this.store.get('SELECT * FROM snapshots WHERE run_id = ? AND host = ? ORDER BY id DESC LIMIT 1', runId, host);
    return row ? toSnapshot(row) : undefined;
  }

  /** The oldest snapshot of a host in a run (the baseline verification compares with). */
  firstSnapshot(runId: string, host: string): SnapshotRow | undefined {
    const row = this.store.get(
      'SELECT * FROM snapshots WHERE run_id = ? AND host = ? ORDER BY id LIMIT 1',
      runId,
      host,
    );
    return row ? toSnapshot(row) : undefined;
  }

  addEvent(runId: string, event: RollgateEvent): void {
    const host = 'host' in event && typeof event.host === 'string' ? event.host : null;
    this.write(() =>
      this.store.run(
        'INSERT INTO events (run_id, host, type, at, data) VALUES (?, ?, ?, ?, ?)',
        runId,
        host,
        event.type,
        event.at,
        json(event, this.secrets),
      ),
    );
  }

  listEvents(runId: string, host?: string): EventRow[] {
    const rows = host
      ? this.store.all('SELECT * FROM events WHERE run_id = ? AND host = ? ORDER BY id', runId, host)
      : this.store.all('SELECT * FROM events WHERE run_id = ? ORDER BY id', runId);
    return rows.map(toEvent);
  }
}

const STEP_SELECT = 'SELECT s.*, u.record AS record FROM steps s LEFT JOIN undo_records u ON u.step_id = s.id';
