/**
 * One host's state during a playbook run: its connection for the current play, variables it gained (registered
 * results and set_fact, kept across plays), handlers it notified, whether it is still in the play, and its
 * recap counters.
 */
import type { Connection } from '../connection/connection.js';
import type { SshTarget } from '../connection/target.js';
import type { HostRecap } from '../events/events.js';

/** active: runs the next task; failed / unreachable: out of the run (as in Ansible); ended: out of this play. */
export type HostState = 'active' | 'failed' | 'unreachable' | 'ended';

export function emptyRecap(): HostRecap {
  return { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
}

export class HostSession {
  state: HostState = 'active';
  /** Registered results and set_fact values (precedence above play and task vars). */
  readonly facts: Record<string, unknown> = {};
  /** Handler names and listen topics notified and not yet run. */
  readonly notified = new Set<string>();
  readonly recap: HostRecap = emptyRecap();
  /** The connection for the current play (replaced by reboot's reconnect). */
  conn: Connection | undefined;
  /** Why the host failed or is unreachable (the last failure's message). */
  reason: string | undefined;
  /** The failed task's name and result, exposed to `rescue:` as ansible_failed_task / ansible_failed_result. */
  lastFailure: { task: string; result: Record<string, unknown> } | undefined;

  constructor(
    readonly name: string,
    /** Inventory variables (group and host vars, merged). */
    readonly inventoryVars: Record<string, unknown>,
    readonly groups: string[],
    readonly target: SshTarget,
  ) {}

  get active(): boolean {
    return this.state === 'active';
  }

  /** Back in a new play: a host that only ended the last play runs again; failed and unreachable ones do not. */
  startPlay(): void {
    if (this.state === 'ended') this.state = 'active';
    this.notified.clear();
  }

  fail(reason: string | undefined): void {
    this.state = 'failed';
    this.reason = reason;
  }

  unreachable(reason: string | undefined): void {
    this.state = 'unreachable';
    this.reason = reason;
  }
}
