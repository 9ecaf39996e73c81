/**
 * A host's place in a rollout, kept in the journal (run_hosts.detail, JSON) and written before each step, so
 * `rollgate resume` finds every host where it was: which phase, the trial boot's state, the boot id before the
 * last reboot, the expectations the trial boot was armed with.
 */
import type { RolloutHostStatus } from '../../events/events.js';
import type { Journal } from '../../journal/journal.js';
import type { TrialBootState } from '../../trial-boot/trial-boot.js';
import type { Expectations, ServiceStates } from './verify.js';

/**
 * pending: not started. prepared: pre-change snapshot taken, known-good boot frozen. applying: the play's tasks
 * are running (changes journaled). rebooting: the trial is armed and the reboot requested. booted: the host
 * came back on the trial boot. fell_back: it came back on the known-good entry instead. rolling_back: undo and
 * return to the known-good entry under way. Then a terminal status.
 */
export type HostPhase =
  'pending' | 'prepared' | 'applying' | 'rebooting' | 'booted' | 'fell_back' | 'rolling_back' | RolloutHostStatus;

export interface HostRecord {
  phase: HostPhase;
  trial?: TrialBootState;
  /** Journal step of the frozen known-good entry (undone when the rollout commits or releases it). */
  prepareStepId?: number;
  /**
   * Journal step of `prepare_boot`'s boot_default change: kept through a rollback's undo and the return to the
   * known-good entry (which needs GRUB_DEFAULT=saved), undone last.
   */
  bootPrepStepId?: number;
  /** boot_id before the last reboot this rollout asked for. */
  oldBootId?: string;
  /** What the trial boot was armed with, from the journaled steps. */
  expectations?: Expectations;
  servicesPre?: ServiceStates;
  /** Every change of the run on this host is undone already (rollback in progress). */
  undone?: boolean;
  message?: string;
  /** Running guests to shut down before each reboot and start again after (`rollout: guests:`), recorded first. */
  guests?: {
    uri: string | null;
    stop: string[];
    /** Movable guests to live-migrate to a peer. */
    migrate?: string[];
    /** Migrated guests and the peer URI each went to, recorded before each migration. */
    moved?: Record<string, string>;
  };
}

export const TERMINAL: ReadonlySet<HostPhase> = new Set<HostPhase>([
  'ok',
  'changed',
  'failed',
  'unreachable',
  'rolled_back',
  'needs_person',
]);

export function readRecord(journal: Journal, runId: string, host: string): HostRecord {
  const row = journal.listHosts(runId).find((h) => h.host === host);
  if (!row?.detail) return { phase: 'pending' };
  try {
    return JSON.parse(row.detail) as HostRecord;
  } catch {
    return { phase: 'pending' };
  }
}

/** The record of one host, saved to the journal on every change. */
export class HostRecordStore {
  private current: HostRecord;

  constructor(
    private readonly journal: Journal,
    private readonly runId: string,
    private readonly host: string,
  ) {
    this.current = readRecord(journal, runId, host);
  }

  get rec(): Readonly<HostRecord> {
    return this.current;
  }

  save(next: Partial<HostRecord>): void {
    this.current = { ...this.current, ...next };
    this.journal.setHostStatus(this.runId, this.host, this.current.phase, JSON.stringify(this.current));
  }
}
