/**
 * `rollgate run`: a planned playbook over real hosts. The run is journaled (kind `run` or `check`) with every
 * step and its undo record, the hosts are locked against other runs that change them (not in check mode),
 * plays run in order, and the recap says per host ok / changed / failed / unreachable / skipped / rescued /
 * ignored.
 */
import type { SshTarget } from '../connection/target.js';
import type { EventBus, HostRecap, RollgateEvent } from '../events/events.js';
import type { Journal } from '../journal/journal.js';
import type { Inventory } from '../load/inventory.js';
import { groupHosts } from '../load/limit.js';
import type { Plan } from '../plan/plan.js';
import { HostSession } from './host-session.js';
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
}

/** Another run holds the lock of some of these hosts: nothing was touched. */
export class HostsLockedError extends Error {
  override readonly name = 'HostsLockedError';
}

const journaled = new Set<RollgateEvent['type']>(['run.started', 'play.started', 'task.started', 'task.result', 'play.recap', 'run.finished']);

export async function runPlaybook(input: PlaybookRunInput): Promise<PlaybookRunResult> {
  const { journal, bus, options, plan } = input;
  const secrets = input.secrets ?? runSecrets({ inventory: input.inventory, plays: plan.plays.map((p) => p.play), extraVars: options.extraVars });
  guardRun(secrets, journal, bus);
  const run = journal.createRun({
    kind: options.check ? 'check' : 'run',
    playbook: input.playbookPath,
    inventory: input.inventorySources,
    ...(input.limit ? { limit: input.limit } : {}),
    options: { check: options.check, diff: options.diff, tags: input.tags ?? [], skipTags: input.skipTags ?? [], extraVars: Object.keys(options.extraVars) },
  });
  const lock = journal.fleetLock();
  if (!options.check) {
    const got = await lock.acquireHostLocks(run.id, plan.hosts);
    if (!got.ok) {
      journal.finishRun(run.id, 'failed');
      throw new HostsLockedError(`hosts locked by other runs: ${got.conflicts.map((c) => `${c.host} (run ${c.runId}, ${c.holder})`).join(', ')}`);
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
    secrets,
  };
  let stopped = false;
  try {
    bus.emit({ type: 'run.started', at: started, runId: run.id, playbook: input.playbookPath, check: options.check, diff: options.diff, hosts: plan.hosts });
    for (const [i, planned] of plan.plays.entries()) {
      const goOn = await runPlay(planned, ctx, input.opener);
      if (!goOn && i < plan.plays.length - 1) {
        stopped = true;
        break;
      }
    }
  } finally {
    if (!options.check) await lock.releaseHostLocks(run.id);
  }
  const recap = Object.fromEntries([...sessions].map(([name, s]) => [name, { ...s.recap }]));
  const failed = [...sessions.values()].some((s) => s.state === 'failed');
  const unreachable = [...sessions.values()].some((s) => s.state === 'unreachable');
  for (const s of sessions.values()) journal.setHostStatus(run.id, s.name, s.state === 'active' || s.state === 'ended' ? 'ok' : s.state, s.reason);
  bus.emit({ type: 'play.recap', at: Date.now(), hosts: recap });
  journal.finishRun(run.id, failed || unreachable ? 'failed' : 'succeeded');
  bus.emit({ type: 'run.finished', at: Date.now(), runId: run.id, failed: failed || unreachable, ms: Date.now() - started });
  off();
  return { runId: run.id, recap, failed, unreachable, stopped };
}
