/**
 * When a rollout stops. Ansible's `max_fail_percentage`: per batch, the play aborts when failed hosts divided by
 * the batch size is strictly greater than the percentage ("must be exceeded, not equaled"); without it the play
 * goes on unless every host of the batch failed. rollgate adds: any canary failure stops, and a host that needs a
 * person stops the run. An unreachable or rolled-back host counts as failed.
 */
import type { HostOutcomeStatus } from '../core/host-status.js';

export function countsAsFailure(status: HostOutcomeStatus): boolean {
  return status === 'failed' || status === 'unreachable' || status === 'rolled_back' || status === 'needs_person';
}

export type StopDecision =
  | { stop: false }
  | { stop: true; reason: 'canary_failed' | 'max_fail_percentage' | 'batch_failed' | 'needs_person'; message: string };

export interface BatchTally {
  phase: 'canary' | 'batch';
  /** Hosts in the batch (the denominator), including those not finished yet. */
  size: number;
  /** Outcomes of the hosts finished so far. */
  outcomes: ReadonlyArray<{ host: string; status: HostOutcomeStatus }>;
}

/**
 * Whether the rollout must stop now. Safe to call mid-batch: failures only grow, so once it says stop it keeps
 * saying stop, and hosts of the batch not started yet stay untouched. The "whole batch failed" rule needs every
 * outcome, so it only fires once the batch is complete.
 */
export function decideStop(tally: BatchTally, maxFailPercentage?: number): StopDecision {
  const failed = tally.outcomes.filter((o) => countsAsFailure(o.status));
  const person = tally.outcomes.find((o) => o.status === 'needs_person');
  if (person) return { stop: true, reason: 'needs_person', message: `${person.host} needs a person` };
  if (failed.length === 0) return { stop: false };
  const names = failed.map((o) => `${o.host} (${o.status})`).join(', ');
  if (tally.phase === 'canary') return { stop: true, reason: 'canary_failed', message: `canary failed: ${names}` };
  if (maxFailPercentage !== undefined && tally.size > 0 && failed.length / tally.size > maxFailPercentage / 100) {
    return {
      stop: true,
      reason: 'max_fail_percentage',
      message: `${failed.length} of ${tally.size} hosts in the batch failed (${names}), more than max_fail_percentage ${maxFailPercentage}%`,
    };
  }
  if (tally.outcomes.length >= tally.size && failed.length >= tally.size) {
    return { stop: true, reason: 'batch_failed', message: `every host of the batch failed: ${names}` };
  }
  return { stop: false };
}
