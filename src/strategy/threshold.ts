/**
 * When a batch stops a run or a rollout (both commands use this module). Ansible's `max_fail_percentage`: per
 * batch, the play aborts when failed hosts divided by the batch size is strictly greater than the percentage ("must be exceeded, not equaled"); without it the play
 * goes on unless every host of the batch failed. rollgate adds: any canary failure stops, and a host that needs a
 * person stops the run. An unreachable or rolled-back host counts as failed.
 */
import type { HostOutcomeStatus } from '../core/host-status.js';

/** JSON Schema of `max_fail_percentage` for the published playbook schema; `parseMaxFailPercentage` checks it. */
export const maxFailPercentageSchema = {
  type: ['number', 'string'],
  description: 'stop when more than this percentage of a batch failed: 0 to 100, e.g. 20 or "20%"',
} as const;

/**
 * Read `max_fail_percentage` as Ansible's `percent` attribute does: a number, or a string with or without `%`
 * ("20%", "12.5"). Returns the number, or why the value is not a percentage from 0 to 100.
 */
export function parseMaxFailPercentage(value: unknown): { value: number } | { problem: string; hint: string } {
  const n =
    typeof value === 'string' && /^\s*\d+(\.\d+)?\s*%?\s*$/.test(value) ? Number(value.replace('%', '')) : value;
  if (typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 100) return { value: n };
  return {
    problem: `\`max_fail_percentage\` ${JSON.stringify(value)} is not a percentage from 0 to 100`,
    hint: 'write e.g. `max_fail_percentage: 20` (stop when more than 20% of a batch failed)',
  };
}

/** Ansible's test: the failed share of a batch strictly greater than the percentage ("exceeded, not equaled"). */
export function exceedsMaxFail(failed: number, batchSize: number, maxFailPercentage: number | undefined): boolean {
  if (maxFailPercentage === undefined || batchSize === 0) return false;
  return failed / batchSize > maxFailPercentage / 100;
}

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
  if (exceedsMaxFail(failed.length, tally.size, maxFailPercentage)) {
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
