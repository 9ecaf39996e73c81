/**
 * The rollout plan: canaries first (one host per hardware kind, a few at a time), then the other hosts in
 * Ansible-style batches, with optional pauses between phases. Pure: (hosts with kinds, settings) -> batches.
 */
import { groupByKind, type KindedHost } from './hardware-kind.js';
import { planBatches } from './serial.js';
import type { RolloutSettings, Pause } from './settings.js';

export interface PlannedBatch {
  phase: 'canary' | 'batch';
  /** 1-based within its phase. */
  index: number;
  hosts: string[];
  /** Wait for this before starting the batch (approval or a number of seconds). */
  pauseBefore?: Pause;
}

export interface RolloutPlan {
  /** Kind -> hosts of that kind, in inventory order. */
  kinds: Map<string, string[]>;
  canaries: string[];
  batches: PlannedBatch[];
}

/** The first host of each kind, in order of first appearance. */
export function pickCanaries(hosts: readonly KindedHost[]): string[] {
  return [...groupByKind(hosts).values()].map((names) => names[0] as string);
}

export function planRollout(hosts: readonly KindedHost[], settings: RolloutSettings): RolloutPlan {
  const kinds = groupByKind(hosts);
  const canaries = settings.canary === 'per_kind' && hosts.length > 1 ? pickCanaries(hosts) : [];
  const rest = hosts.map((h) => h.name).filter((n) => !canaries.includes(n));
  const batches: PlannedBatch[] = [];
  planBatches(canaries, [{ kind: 'count', value: settings.canarySerial }]).forEach((group, i) =>
    batches.push({ phase: 'canary', index: i + 1, hosts: group }),
  );
  planBatches(rest, settings.serial, hosts.length).forEach((group, i) => {
    const batch: PlannedBatch = { phase: 'batch', index: i + 1, hosts: group };
    const pause =
      i === 0 ? (canaries.length > 0 ? settings.pauseAfterCanaries : undefined) : settings.pauseBetweenBatches;
    if (pause) batch.pauseBefore = pause;
    batches.push(batch);
  });
  return { kinds, canaries, batches };
}
