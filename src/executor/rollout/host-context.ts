/**
 * What one host's turn in a rollout works with: its inventory entry, the play as planned, the run's executor
 * context (so the play's tasks run through the playbook executor), how to open a fresh login, its power driver,
 * and its journaled record. Built by rollout.ts, used by host-run.ts and the rollout's own modules.
 */
import type { Connection } from '../../connection/connection.js';
import type { RollgateEvent } from '../../events/events.js';
import type { Journal } from '../../journal/journal.js';
import type { HostSnapshot } from '../../modules/facts/snapshot.js';
import type { HostRoot } from '../../modules/host-root.js';
import type { PlannedPlay } from '../../plan/plan.js';
import type { PowerDriver } from '../../power/driver.js';
import type { RolloutSettings } from '../../strategy/settings.js';
import type { HostSession } from '../host-session.js';
import type { RunContext } from '../run-context.js';
import { HostRecordStore } from './host-record.js';

export interface HostRunDeps {
  runId: string;
  host: { name: string; vars: Record<string, unknown> };
  planned: PlannedPlay;
  /** The run as the playbook executor sees it (journal, bus, options, every host's session). */
  run: RunContext;
  session: HostSession;
  settings: RolloutSettings;
  journal: Journal;
  emit(e: RollgateEvent): void;
  /** A fresh, full SSH login to the host (as root through sudo -n). */
  open(): Promise<Connection>;
  power: PowerDriver | null;
  hr: HostRoot;
  collect(conn: Connection): Promise<HostSnapshot>;
  /** `rollgate_reboot_command`: replaces `systemctl reboot` (throwaway-root tests). */
  rebootCommand?: string;
  /** Pause between login attempts while waiting for a boot, in milliseconds (`rollgate_reboot_poll_seconds`). */
  pollMs: number;
  /** Re-entering after the controller stopped (rollgate resume). */
  resuming?: boolean;
  /** Where the serial console of the host is logged, for the evidence of "needs a person". */
  serialLog?: string;
  /**
   * Where this host's movable guests may live-migrate (`rollout: guests: {movable: migrate}`): the other hosts of
   * its rollgate_cluster in the play that are not in its batch, each with the libvirt URI its peers reach it by.
   */
  migrationPeers?: Array<{ name: string; uri: string }>;
}

export type StepStatus = 'started' | 'ok' | 'changed' | 'skipped' | 'failed';

export interface HostCtx {
  d: HostRunDeps;
  store: HostRecordStore;
  /** A rollout step of this host, as an event. */
  step(name: string, status: StepStatus, message?: string): void;
  /** Set when resumed on the trial boot: the play's next reboot task is already done. */
  alreadyBooted: boolean;
  /** When this host's turn began (milliseconds since the epoch). */
  started: number;
}

export function hostCtx(d: HostRunDeps): HostCtx {
  const host = d.host.name;
  return {
    d,
    store: new HostRecordStore(d.journal, d.runId, host),
    step: (name, status, message) =>
      d.emit({
        type: 'rollout.host_step',
        at: Date.now(),
        runId: d.runId,
        host,
        step: name,
        status,
        ...(message ? { message } : {}),
      }),
    alreadyBooted: false,
    started: Date.now(),
  };
}
