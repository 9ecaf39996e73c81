/**
 * A controller's hold on one run while it works: the run's lease (renewed on an unref'd timer, so it never
 * keeps the process alive) and the signal that tells the executor to stop taking new work: the operator's
 * (SIGINT / SIGTERM through the CLI) or the lease lost to another controller that found this one dead.
 */
import type { Journal } from '../journal/journal.js';
import { LEASE_RENEW_MS, type RunLease } from '../journal/run-lease.js';

export type ControlOutcome = { ok: true; control: RunControl } | { ok: false; message: string; owner: string };

export class RunControl {
  private readonly lost = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /** Aborted when the executor must stop after its current step; `reason` says why. */
  readonly signal: AbortSignal;

  private constructor(
    private readonly journal: Journal,
    readonly lease: RunLease,
    stop: AbortSignal | undefined,
  ) {
    this.signal = stop ? AbortSignal.any([stop, this.lost.signal]) : this.lost.signal;
    this.timer = setInterval(() => this.beat(), LEASE_RENEW_MS);
    this.timer.unref();
  }

  /** Take the run's lease (a new run, or a dead controller's: resume) and keep it while working. */
  static take(journal: Journal, runId: string, stop?: AbortSignal): ControlOutcome {
    const got = journal.leases().take(runId);
    if (!got.ok)
      return { ok: false, owner: got.holder.owner, message: `run ${runId} is still in progress: ${got.life.why}` };
    return { ok: true, control: new RunControl(journal, got.lease, stop) };
  }

  /** Why the executor is stopping, or undefined while it may go on. */
  get stopReason(): string | undefined {
    return this.signal.aborted ? String(this.signal.reason) : undefined;
  }

  private beat(): void {
    try {
      if (!this.journal.leases().renew(this.lease))
        this.lost.abort(`another controller took run ${this.lease.runId} over`);
    } catch {
      // The journal is busy or closed: the next beat tries again (several fit in a lease's lifetime).
    }
  }

  /** Stop renewing and let the lease go (the run is finished or interrupted). */
  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.journal.isOpen) return;
    this.journal.leases().release(this.lease);
  }
}
