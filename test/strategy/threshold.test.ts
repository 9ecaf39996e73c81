import { describe, expect, it } from 'vitest';
import type { HostOutcomeStatus } from '../../src/core/host-status.js';
import { decideStop, type BatchTally } from '../../src/strategy/threshold.js';

function tally(phase: 'canary' | 'batch', size: number, statuses: HostOutcomeStatus[]): BatchTally {
  return { phase, size, outcomes: statuses.map((status, i) => ({ host: `h${i + 1}`, status })) };
}
const f = (n: number): HostOutcomeStatus[] => Array<HostOutcomeStatus>(n).fill('failed');
const ok = (n: number): HostOutcomeStatus[] => Array<HostOutcomeStatus>(n).fill('changed');

describe('decideStop: max_fail_percentage as Ansible means it', () => {
  it.each<[string, BatchTally, number | undefined, false | string]>([
    [
      '10 hosts, 30%: 3 failures do not stop (must be exceeded, not equaled)',
      tally('batch', 10, [...f(3), ...ok(7)]),
      30,
      false,
    ],
    ['10 hosts, 30%: 4 failures stop', tally('batch', 10, [...f(4), ...ok(6)]), 30, 'max_fail_percentage'],
    [
      'serial 4, 49%: 2 failures stop (Ansible docs)',
      tally('batch', 4, [...f(2), ...ok(2)]),
      49,
      'max_fail_percentage',
    ],
    ['serial 4, 50%: 2 failures do not stop', tally('batch', 4, [...f(2), ...ok(2)]), 50, false],
    ['0%: any failure stops', tally('batch', 20, ['unreachable', ...ok(19)]), 0, 'max_fail_percentage'],
    ['100%: even a whole failed batch... stops by the whole-batch rule', tally('batch', 2, f(2)), 100, 'batch_failed'],
    ['no percentage: some failures go on', tally('batch', 3, ['failed', 'rolled_back', 'ok']), undefined, false],
    [
      'no percentage: a whole failed batch stops',
      tally('batch', 3, ['failed', 'unreachable', 'rolled_back']),
      undefined,
      'batch_failed',
    ],
    ['an unreachable host counts as failed', tally('batch', 2, ['unreachable', 'ok']), 40, 'max_fail_percentage'],
    ['a rolled-back host counts as failed', tally('batch', 2, ['rolled_back', 'ok']), 40, 'max_fail_percentage'],
    ['a canary failure stops whatever the percentage', tally('canary', 1, ['rolled_back']), 100, 'canary_failed'],
    ['an unreachable canary stops', tally('canary', 2, ['ok', 'unreachable']), undefined, 'canary_failed'],
    ['canaries that pass go on', tally('canary', 2, ['changed', 'ok']), 0, false],
    ['a host that needs a person stops everything', tally('batch', 10, ['needs_person', ...ok(9)]), 50, 'needs_person'],
  ])('%s', (_title, t, pct, expected) => {
    const d = decideStop(t, pct);
    expect(d.stop ? d.reason : false).toBe(expected);
  });

  it('stops mid-batch as soon as the threshold is crossed, so hosts not started stay untouched', () => {
    const d = decideStop(tally('batch', 10, [...f(4), 'ok']), 30);
    expect(d).toMatchObject({ stop: true, reason: 'max_fail_percentage' });
  });

  it('does not call a half-finished batch "all failed"', () => {
    expect(decideStop(tally('batch', 3, f(2))).stop).toBe(false);
  });

  it('names the failed hosts and their outcomes', () => {
    const d = decideStop(tally('batch', 4, ['failed', 'unreachable', 'ok', 'ok']), 25);
    expect(d.stop && d.message).toBe(
      '2 of 4 hosts in the batch failed (h1 (failed), h2 (unreachable)), more than max_fail_percentage 25%',
    );
  });
});
