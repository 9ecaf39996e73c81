/**
 * `rollgate run`: a planned playbook over real hosts. The run is journaled (kind `run` or `check`) with every
 * step and its undo record, the hosts are locked against other runs that change them (not in check mode),
 * plays run in order, and the recap says per host ok / changed / failed / unreachable / skipped / rescued /
 * ignored.
 */
import type { SshTarget } from '../connection/target.js';
import type { EventBus, HostRecap, RollgateEvent } from '../events/events.js';
import type { FleetLock } from '../journal/fleet-lock.js';
import type { Journal } from '../journal/journal.js';
import type { Inventory } from '../load/inventory.js';
import { groupHosts } from '../load/limit.js';
import type { Plan } from '../plan/plan.js';
import { describeConflicts } from '../journal/run-life.js';
import { undoHasWork } from '../modules/undo.js';
import { HostSession } from './host-session.js';
import { addressSubjects } from './machine-identity.js';
import { beginNewRun } from './run-record.js';
import { runPlay, type Opener } from './play-run.js';
import { guardRun, runSecrets } from './run-secrets.js';
import type { SecretSet } from '../secrets/secret-set.js';
import type { RunContext, RunOptions } from './run-context.js';

export interface PlaybookRunInput {
  plan: Plan;
  inventory: Inventory;
  /** Every host of the plan, resolved before any is contacted. */
  targets: ReadonlyMap<string, SshTarget>;
  journal: Journal;
  /** The fleet lock the composition root chose: the journal's own, or one shared with other controllers. */
  lock: FleetLock;
  bus: EventBus;
  options: RunOptions;
  playbookPath: string;
  playbookDir: string;
  /** For the journal's record of the run. */
  inventorySources: string[];
  limit?: string;
  tags?: readonly string[];
  skipTags?: readonly string[];
  opener?: Opener;
  /** Aborted by the operator (SIGINT / SIGTERM): stop after the tasks in flight; `reason` says why. */
  stop?: AbortSignal;
  /** The run's secret values (default: collected from inventory, plays and extra vars here). */
  secrets?: SecretSet;
}

export interface PlaybookRunResult {
  runId: string;
  recap: Record<string, HostRecap>;
  /** Some host failed (and was not rescued or ignored). */
  failed: boolean;
  unreachable: boolean;
  /** The run stopped before its last play (max_fail_percentage, any_errors_fatal, no host left). */
  stopped: boolean;
  /** Why the run was interrupted after the tasks in flight (SIGINT, SIGTERM, its lease lost); the run is `interrupted`. */
  interrupted?: string;
}

/** Another run holds the lock of some of these hosts: nothing was touched. */
export class HostsLockedError extends Error {
  override readonly name = 'HostsLockedError';
}

const journaled = new Set<RollgateEvent['type']>([
  'run.started',
  'play.started',
  'task.started',
  'task.result',
  'play.recap',
  'run.finished',
]);

export async function runPlaybook(input: PlaybookRunInput): Promise<PlaybookRunResult> {
  const { journal, bus, options, plan } = input;
  const secrets =
    input.secrets ??
    runSecrets({ inventory: input.inventory, plays: plan.plays.map((p) => p.play), extraVars: options.extraVars });
  guardRun(secrets, journal, bus);
  const run = beginNewRun(
    journal,
    {
      kind: options.check ? 'check' : 'run',
      playbook: input.playbookPath,
      inventory: input.inventorySources,
      ...(input.limit ? { limit: input.limit } : {}),
      options: {
        check: options.check,
        diff: options.diff,
        tags: input.tags ?? [],
        skipTags: input.skipTags ?? [],
        extraVars: Object.keys(options.extraVars),
      },
    },
    input.stop,
  );
  const control = run.control;
  const { lock } = input;
  if (!options.check) {
    // Every host's address first, all or nothing; each host key right after its handshake (play-run.ts).
    const got = await lock.acquireHostLocks(run.id, addressSubjects(plan.hosts.map((n) => input.targets.get(n)!)));
    if (!got.ok) {
      run.end('failed');
      throw new HostsLockedError(`hosts locked:\n${describeConflicts(journal, got.conflicts, lock.shared)}`);
    }
  }
  const off = bus.on((e) => {
    if (journaled.has(e.type)) journal.addEvent(run.id, e);
  });
  const started = Date.now();
  const sessions = new Map<string, HostSession>();
  for (const name of plan.hosts) {
    const host = input.inventory.hosts.get(name)!;
    sessions.set(name, new HostSession(name, host.vars, host.groups, input.targets.get(name)!));
    journal.addHost(run.id, name);
  }
  const ctx: RunContext = {
    runId: run.id,
    journal,
    bus,
    options,
    inventory: input.inventory,
    playbookDir: input.playbookDir,
    sessions,
    groups: Object.fromEntries([...input.inventory.groups.keys()].map((g) => [g, groupHosts(input.inventory, g)])),
    stop: control.signal,
    ...(options.check ? {} : { claim: { journal, lock, runId: run.id } }),
    secrets,
  };
  let stopped = false;
  try {
    bus.emit({
      type: 'run.started',
      at: started,
      runId: run.id,
      playbook: input.playbookPath,
      check: options.check,
      diff: options.diff,
      hosts: plan.hosts,
    });
    for (const [i, planned] of plan.plays.entries()) {
      if (control.stopReason) break;
      const goOn = await runPlay(planned, ctx, input.opener);
      if (!goOn && i < plan.plays.length - 1) {
        stopped = true;
        break;
      }
    }
  } finally {
    // Interrupted too: the tasks in flight have finished, so no host is mid-step; its locks go.
    if (!options.check) await lock.releaseHostLocks(run.id);
  }
  const recap = Object.fromEntries([...sessions].map(([name, s]) => [name, { ...s.recap }]));
  const failed = [...sessions.values()].some((s) => s.state === 'failed');
  const unreachable = [...sessions.values()].some((s) => s.state === 'unreachable');
  const interrupted = control.stopReason;
  // An interrupted run's hosts still in the play did not finish it.
  const statusOf = (s: HostSession) =>
    s.state === 'active' || s.state === 'ended'
      ? interrupted && s.state === 'active'
        ? 'interrupted'
        : 'ok'
      : s.state;
  for (const s of sessions.values()) journal.setHostStatus(run.id, s.name, statusOf(s), s.reason);
  bus.emit({ type: 'play.recap', at: Date.now(), hosts: recap });
  run.end(interrupted ? 'interrupted' : failed || unreachable ? 'failed' : 'succeeded');
  // A host that failed after a change is left half-changed: name the undo that puts it back.
  const undoHosts = options.check
    ? []
    : [...sessions.values()]
        .filter((s) => s.state === 'failed' || s.state === 'unreachable')
        .map((s) => s.name)
        .filter((h) => journal.undoableSteps(run.id, h).some((s) => undoHasWork(s.undo)));
  bus.emit({
    type: 'run.finished',
    at: Date.now(),
    runId: run.id,
    failed: failed || unreachable,
    ms: Date.now() - started,
    ...(undoHosts.length ? { undoHosts } : {}),
  });
  off();
  return { runId: run.id, recap, failed, unreachable, stopped, ...(interrupted ? { interrupted } : {}) };
}
