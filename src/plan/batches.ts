/**
 * `serial` as Ansible reads it: each step is a host count or a percentage of the play's hosts (rounded down,
 * at least 1); the last step repeats until every host has had its batch. No `serial`: one batch of all hosts.
 */
import type { SerialStep } from '../load/playbook-types.js';

export function serialBatches(hosts: readonly string[], serial: readonly SerialStep[] | undefined): string[][] {
  if (!serial || serial.length === 0 || hosts.length === 0) return hosts.length > 0 ? [[...hosts]] : [];
  const sizes = serial.map((s) =>
    Math.max(1, s.kind === 'count' ? s.value : Math.floor((hosts.length * s.value) / 100)),
  );
  const batches: string[][] = [];
  let at = 0;
  for (let i = 0; at < hosts.length; i++) {
    const size = sizes[Math.min(i, sizes.length - 1)]!;
    batches.push(hosts.slice(at, at + size));
    at += size;
  }
  return batches;
}

/** Ansible's max_fail_percentage: the run stops when the failed share of a batch is strictly greater. */
export function batchFailedTooMany(failed: number, batchSize: number, maxFailPercentage: number | undefined): boolean {
  if (maxFailPercentage === undefined || batchSize === 0) return false;
  return (failed / batchSize) * 100 > maxFailPercentage;
}
