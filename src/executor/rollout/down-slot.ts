/**
 * A host takes one of its cluster's down slots before its turn in the rollout (it may be rebooted more than once:
 * trial, rollback) and gives it back when its turn ends, unless it needs a person: a host nobody has looked at
 * still counts as down. Waiting for a slot is bounded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FleetLock } from '../../journal/fleet-lock.js';
import type { ClusterCap } from '../../strategy/cluster.js';

export type SlotWait = { ok: true } | { ok: false; message: string };

export interface SlotWaitOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** Pause between attempts. Default 5000. */
  pollMs?: number;
  /** Told once, when the first attempt finds the cluster full. */
  onWait?: (down: string[]) => void;
  /** Aborted: stop waiting (the rollout is interrupted; the host was not started). */
  stop?: AbortSignal;
}

export async function takeDownSlot(
  lock: FleetLock,
  runId: string,
  host: string,
  cap: ClusterCap,
  opts: SlotWaitOptions,
): Promise<SlotWait> {
  const start = Date.now();
  let told = false;
  // Bounded by the deadline; each attempt is one short database transaction.
  for (;;) {
    const got = await lock.acquireDownSlot(runId, cap.cluster, host, cap.maxDown);
    if (got.ok) return { ok: true };
    const down = got.down.map((d) => `${d.host} (run ${d.runId})`);
    if (!told) opts.onWait?.(down);
    told = true;
    if (opts.stop?.aborted)
      return { ok: false, message: `interrupted while waiting for a down slot in cluster ${cap.cluster}` };
    if (Date.now() - start >= opts.timeoutMs) {
      return {
        ok: false,
        message: `cluster ${cap.cluster} had ${got.down.length} of ${cap.maxDown} host(s) down for ${Math.round(opts.timeoutMs / 1000)} s: ${down.join(', ')}`,
      };
    }
    await sleep(
      Math.min(opts.pollMs ?? 5000, Math.max(0, opts.timeoutMs - (Date.now() - start))),
      undefined,
      opts.stop ? { signal: opts.stop } : {},
    ).catch(() => undefined);
  }
}
