/**
 * `rollgate check` / `rollgate snapshot` over a fleet: one connection and one collection command per host,
 * the snapshot assembled and judged on the controller. Per-host outcomes are values (unreachable hosts too).
 */
import type { SshTarget } from '../connection/target.js';
import type { EventBus } from '../events/events.js';
import { runOnFleet, type HostOutcome } from './fleet.js';
import { collectSnapshot } from '../modules/facts/collect.js';
import type { HostSnapshot } from '../modules/facts/snapshot.js';
import { evaluateFindings, type FindingsReport } from '../modules/findings/evaluate.js';
import type { DesiredState } from '../modules/findings/desired.js';

export interface CheckHost {
  target: SshTarget;
  desired: DesiredState;
  /** The host's variables (the collection reads `rollgate_libvirt_uri`). */
  vars?: Record<string, unknown>;
}

export interface HostCheck {
  snapshot: HostSnapshot;
  report: FindingsReport;
}

export interface CheckRunOptions {
  forks?: number;
  bus?: EventBus;
  profileSeconds?: number;
  sectionTimeoutSec?: number;
}

export async function checkFleet(
  hosts: readonly CheckHost[],
  opts: CheckRunOptions = {},
): Promise<HostOutcome<HostCheck>[]> {
  const byName = new Map(hosts.map((h) => [h.target.name, h]));
  return runOnFleet(
    hosts.map((h) => h.target),
    async (conn, target) => {
      const host = byName.get(target.name);
      if (!host) throw new Error(`internal: no check host named ${target.name}`);
      const { desired, vars } = host;
      const snapshot = await collectSnapshot(
        conn,
        { name: target.name, ...(vars ? { vars } : {}) },
        {
          passthroughIds: desired.passthroughIds,
          ...(opts.profileSeconds ? { profileSeconds: opts.profileSeconds } : {}),
          ...(opts.sectionTimeoutSec ? { sectionTimeoutSec: opts.sectionTimeoutSec } : {}),
        },
      );
      return { snapshot, report: evaluateFindings(snapshot, desired) };
    },
    { ...(opts.forks ? { forks: opts.forks } : {}), ...(opts.bus ? { bus: opts.bus } : {}) },
  );
}
