/**
 * The staged rollout: lock every host of the run, learn each host's hardware kind from a snapshot, plan canaries
 * and batches, then move batch after batch through runHost, stopping as soon as a canary fails, the failure
 * threshold is crossed or a host needs a person. Hosts not started stay untouched. The plan is stored with the
 * run, so `resume` walks the same plan: finished hosts are skipped, interrupted ones re-enter their phase.
 */
import { connectionFactory, type Opener } from '../connections.js';
import type { SshTarget } from '../../connection/target.js';
import type { EventBus, RolloutHostStatus, RolloutResult } from '../../events/events.js';
import type { FleetLock } from '../../journal/fleet-lock.js';
import type { Journal } from '../../journal/journal.js';
import type { Inventory } from '../../load/inventory.js';
import { groupHosts } from '../../load/limit.js';
import { collectSnapshot } from '../../modules/facts/collect.js';
import { hostRootFromVars } from '../../modules/host-root.js';
import type { PlannedPlay } from '../../plan/plan.js';
import type { PowerDriver } from '../../power/driver.js';
import { clusterCapOf } from '../../strategy/cluster.js';
import type { PlannedBatch } from '../../strategy/plan.js';
import type { RolloutSettings } from '../../strategy/settings.js';
import { decideStop } from '../../strategy/threshold.js';
import { HostSession } from '../host-session.js';
import type { RunContext } from '../run-context.js';
import { guardRun, runSecrets } from '../run-secrets.js';
import type { SecretSet } from '../../secrets/secret-set.js';
import { takeDownSlot } from './down-slot.js';
import { TERMINAL, readRecord } from './host-record.js';
import { runHost } from './host-run.js';
import { pauseFor, planOrResume } from './rollout-plan.js';
import { describeConflicts } from '../../journal/run-life.js';
import { addressSubjects, claimingOpener } from '../machine-identity.js';
import { runPool } from '../pool.js';
import { beginRun, type RunRecord } from '../run-record.js';
import { passWindow, type WindowGateDeps } from './window-gate.js';
import { rebootOverrides } from '../../modules/boot/reboot-proof.js';
import { migrationPeersOf } from './migration-peers.js';

/**
 * Which run the rollout works in: a new one from its record (`rolloutRecord`), or one already in the journal by
 * id (resume: taken over from a dead controller; tests).
 */
export type RolloutRun = { record: RunRecord; runId?: never } | { runId: string; record?: never };

export type RolloutInput = RolloutRun & RolloutWork;

export interface RolloutWork {
  journal: Journal;
  /** The fleet lock the composition root chose: the journal's own, or one shared with other controllers. */
  lock: FleetLock;
  /** The play as planned (hosts after --limit, tasks after --tags). */
  planned: PlannedPlay;
  inventory: Inventory;
  targets: Map<string, SshTarget>;
  power: Map<string, PowerDriver | null>;
  settings: RolloutSettings;
  bus: EventBus;
  /** Asked at an approval pause; false stops the rollout. */
  approve(before: PlannedBatch): Promise<boolean>;
  /** -e KEY=VALUE, as `rollgate run` takes them. */
  extraVars?: Record<string, unknown>;
  playbookDir?: string;
  /** Re-entering a run whose controller stopped. */
  resuming?: boolean;
  /** Hosts worked on at once inside a batch. Default 10. */
  forks?: number;
  /** Pause between login attempts while waiting (ms); default: the host's `rollgate_reboot_poll_seconds`. */
  pollMs?: number;
  /** How to log in (default ssh2: ../connections.ts, with the run's known_hosts store and bastions). */
  open?: Opener;
  /** Aborted by the operator (SIGINT / SIGTERM): stop taking new steps; `reason` says why. */
  stop?: AbortSignal;
  /** The operator checked that a host presenting another host key than the run recorded is the same machine. */
  force?: boolean;
  /** The run's secret values (default: collected from inventory, play and extra vars here). */
  secrets?: SecretSet;
  /** The maintenance window a host's change must start in (window-gate.ts); clock and sleep injectable. */
  window?: Pick<WindowGateDeps, 'window' | 'byHost' | 'now' | 'sleep'>;
}

export interface RolloutOutcome {
  /** The run's id (the new one, or the one resumed). */
  runId: string;
  result: RolloutResult;
  hosts: Map<string, RolloutHostStatus>;
  stopped?: string;
  /** Why the rollout stopped between steps, and the hosts left mid-change (they keep their locks for resume). */
  interrupted?: { reason: string; midChange: string[] };
  /**
   * The maintenance window stopped the rollout before a host's change (its closing, or `on_outside: stop`); the
   * run is `interrupted` and `rollgate resume` goes on inside the next window.
   */
  windowStop?: string;
}

export function resultOf(statuses: Iterable<RolloutHostStatus>): RolloutResult {
  const all = [...statuses];
  if (all.includes('needs_person')) return 'needs_person';
  if (all.includes('rolled_back')) return 'rolled_back';
  if (all.includes('failed') || all.includes('unreachable')) return 'failed';
  return 'succeeded';
}

function runContext(input: RolloutInput, runId: string, stop: AbortSignal, secrets: SecretSet): RunContext {
  const sessions = new Map(
    input.planned.hosts.map((n) => {
      const h = input.inventory.hosts.get(n)!;
      return [n, new HostSession(n, h.vars, h.groups, input.targets.get(n)!)] as const;
    }),
  );
  return {
    runId,
    journal: input.journal,
    bus: input.bus,
    inventory: input.inventory,
    sessions,
    options: { check: false, diff: false, extraVars: input.extraVars ?? {}, forks: 1 },
    playbookDir: input.playbookDir ?? '.',
    groups: Object.fromEntries([...input.inventory.groups.keys()].map((g) => [g, groupHosts(input.inventory, g)])),
    stop,
    secrets,
  };
}

export async function runRollout(input: RolloutInput): Promise<RolloutOutcome> {
  const { journal, bus } = input;
  const secrets =
    input.secrets ??
    runSecrets({ inventory: input.inventory, plays: [input.planned.play], extraVars: input.extraVars ?? {} });
  guardRun(secrets, journal, bus);
  const started = Date.now();
  const names = input.planned.hosts;
  const { lock } = input;
  // One controller per run: a resume takes the lease over only from a dead controller.
  const closed = new AbortController(); // aborted by the maintenance window: the rollout stops as if interrupted
  const begun = beginRun(
    journal,
    input.record ?? input.runId,
    input.stop ? AbortSignal.any([input.stop, closed.signal]) : closed.signal,
  );
  const runId = begun.ok ? begun.run.id : begun.id;
  // The journal keeps every event of a rollout, the refusal included.
  const unjournal = bus.on((e) => journal.addEvent(runId, e));
  const emit = (e: Parameters<EventBus['emit']>[0]) => bus.emit(e);
  if (!begun.ok) {
    emit({
      type: 'rollout.stopped',
      at: Date.now(),
      runId,
      reason: 'lock_refused',
      message: begun.message,
      untouched: names,
    });
    unjournal();
    return {
      runId,
      result: 'lock_refused',
      hosts: new Map(),
      stopped: `${begun.message}; stop it first (Ctrl-C, or kill -TERM ${begun.owner.slice(begun.owner.lastIndexOf(':') + 1)})`,
    };
  }
  const { run: journaled } = begun;
  const control = journaled.control;
  const got = await lock.acquireHostLocks(runId, addressSubjects(names.map((n) => input.targets.get(n)!)));
  if (!got.ok) {
    const message = describeConflicts(journal, got.conflicts, lock.shared);
    emit({ type: 'rollout.stopped', at: Date.now(), runId, reason: 'lock_refused', message, untouched: names });
    if (input.resuming) journaled.release();
    else journaled.end('failed');
    unjournal();
    return { runId, result: 'lock_refused', hosts: new Map(), stopped: message };
  }
  // One factory for the whole rollout: every login, reconnect and wait shares its known_hosts store and bastions.
  const connections = connectionFactory(input.open);
  const open = claimingOpener((t: SshTarget) => connections.open(t), {
    journal,
    lock,
    runId,
    recordedIn: runId,
    ...(input.force ? { force: true } : {}),
  });
  const inRun = { ...input, runId };
  const batches = await planOrResume(inRun, open);
  const run = runContext(input, runId, control.signal, secrets);
  const statuses = new Map<string, RolloutHostStatus>();
  const midChange: string[] = [];
  let stopped: string | undefined;
  /** Set when the maintenance window stopped the rollout (not the operator): the run ends `interrupted`, resumable. */
  let windowStop: string | undefined;
  const turn = async (name: string, batchHosts: readonly string[]): Promise<RolloutHostStatus | 'interrupted'> => {
    const inv = input.inventory.hosts.get(name)!;
    const target = input.targets.get(name)!;
    // Only a host not started yet waits for (or is stopped by) the window; one mid-change finishes.
    const gate =
      readRecord(journal, runId, name).phase === 'pending' &&
      (await passWindow({
        ...input.window,
        window: input.window?.window ?? input.settings.window,
        runId,
        host: name,
        emit,
        stop: control.signal,
      }));
    if (gate && !gate.ok) {
      // The window closed (or never opened) before this host: its own stop, unless the operator's stop ended the wait.
      if (!input.stop?.aborted) windowStop ??= gate.message;
      closed.abort(gate.message);
      return 'interrupted';
    }
    const cap = clusterCapOf(inv.vars);
    const slot = cap.ok && cap.cap && !TERMINAL.has(readRecord(journal, runId, name).phase) ? cap.cap : null;
    if (slot) {
      const got = await takeDownSlot(lock, runId, name, slot, {
        timeoutMs: input.settings.bootTimeoutSec * 3000,
        ...(input.pollMs !== undefined ? { pollMs: input.pollMs } : {}),
        stop: control.signal,
        onWait: (down) =>
          emit({
            type: 'rollout.host_step',
            at: Date.now(),
            runId,
            host: name,
            step: `wait for a down slot in cluster ${slot.cluster}`,
            status: 'started',
            message: `down now: ${down.join(', ')}`,
          }),
      });
      if (!got.ok && control.stopReason) return 'interrupted';
      if (!got.ok) {
        emit({
          type: 'rollout.host_finished',
          at: Date.now(),
          runId,
          host: name,
          status: 'failed',
          message: got.message,
          ms: 0,
        });
        return 'failed';
      }
    }
    const r = await runHost({
      runId,
      host: inv,
      planned: input.planned,
      run,
      session: run.sessions.get(name)!,
      settings: input.settings,
      journal,
      emit,
      open: () => open(target),
      power: input.power.get(name) ?? null,
      hr: hostRootFromVars(inv.vars),
      collect: (conn) => collectSnapshot(conn, inv),
      ...rebootTuning(inv.vars, input.pollMs),
      ...(typeof inv.vars.rollgate_console_log === 'string' ? { serialLog: inv.vars.rollgate_console_log } : {}),
      ...(input.resuming ? { resuming: true } : {}),
      migrationPeers: migrationPeersOf(
        input.inventory,
        batches.flatMap((b) => b.hosts),
        name,
        batchHosts,
      ),
    });
    // A host stopped mid-change (interrupted, or lost before its trial boot: its phase stays) keeps its lock and its
    // slot until resume (or undo, or unlock) sees to it.
    const phase = readRecord(journal, runId, name).phase;
    const midway =
      (r.status === 'interrupted' || r.status === 'unreachable') && phase !== 'pending' && !TERMINAL.has(phase);
    const keeps = r.status === 'needs_person' || midway;
    if (midway) midChange.push(name);
    if (slot && !keeps) await lock.releaseDownSlot(runId, slot.cluster, name);
    return r.status;
  };
  const interrupted = (bi: number, rest: string[]) => {
    stopped =
      windowStop && !input.stop?.aborted
        ? `stopped by the maintenance window: ${windowStop}`
        : `interrupted: ${control.stopReason}`;
    emit({
      type: 'rollout.stopped',
      at: Date.now(),
      runId,
      reason: windowStop && !input.stop?.aborted ? 'window' : 'interrupted',
      message: stopped,
      untouched: [...rest, ...batches.slice(bi + 1).flatMap((b) => b.hosts)],
    });
  };
  for (const [bi, batch] of batches.entries()) {
    if (control.stopReason) {
      interrupted(bi, batch.hosts);
      break;
    }
    if (batch.pauseBefore && !input.resuming && !(await pauseFor(inRun, batch, batch.pauseBefore, control.signal))) {
      if (control.stopReason) {
        interrupted(bi, batch.hosts);
        break;
      }
      stopped = 'not approved';
      emit({
        type: 'rollout.stopped',
        at: Date.now(),
        runId,
        reason: 'approval',
        message: stopped,
        untouched: batches.slice(bi).flatMap((b) => b.hosts),
      });
      break;
    }
    emit({
      type: 'rollout.batch_started',
      at: Date.now(),
      runId,
      phase: batch.phase,
      index: batch.index,
      hosts: batch.hosts,
    });
    const outcomes: Array<{ host: string; status: RolloutHostStatus }> = [];
    const notDone: string[] = [];
    const queue = [...batch.hosts];
    const tally = () => ({ phase: batch.phase, size: batch.hosts.length, outcomes });
    const next = () =>
      decideStop(tally(), input.settings.maxFailPercentage).stop || control.stopReason ? undefined : queue.shift();
    // A host starts only while the queue has one and the batch need not stop (the threshold, the operator).
    await runPool({
      limit: Math.min(input.forks ?? 10, batch.hosts.length),
      items: next,
      work: async (h: string) => {
        const status = await turn(h, batch.hosts);
        if (status === 'interrupted') notDone.push(h);
        else {
          outcomes.push({ host: h, status });
          statuses.set(h, status);
        }
      },
    });
    emit({ type: 'rollout.batch_finished', at: Date.now(), runId, phase: batch.phase, index: batch.index, outcomes });
    if (control.stopReason) {
      interrupted(bi, [...notDone, ...queue]);
      break;
    }
    const decision = decideStop(tally(), input.settings.maxFailPercentage);
    if (decision.stop) {
      stopped = decision.message;
      emit({
        type: 'rollout.stopped',
        at: Date.now(),
        runId,
        reason: decision.reason,
        message: decision.message,
        untouched: [...queue, ...batches.slice(bi + 1).flatMap((b) => b.hosts)],
      });
      break;
    }
  }
  const result = resultOf(statuses.values());
  const reason = control.stopReason;
  // A host that needs a person keeps its lock: no other run may touch it until someone looks; so does a host an
  // interruption left mid-change, until `rollgate resume` (or undo, or unlock) sees to it.
  await lock.releaseHostLocks(
    runId,
    names.filter((n) => statuses.get(n) !== 'needs_person' && !midChange.includes(n)),
  );
  journaled.end(
    reason ? 'interrupted' : result === 'succeeded' ? 'succeeded' : result === 'lock_refused' ? 'failed' : result,
  );
  await connections.close();
  const counts = { ok: 0, changed: 0, failed: 0, unreachable: 0, rolled_back: 0, needs_person: 0 };
  for (const s of statuses.values()) counts[s]++;
  emit({ type: 'rollout.finished', at: Date.now(), runId, result, counts, ms: Date.now() - started });
  unjournal();
  return {
    runId,
    result,
    hosts: statuses,
    ...(stopped ? { stopped } : {}),
    ...(reason ? { interrupted: { reason, midChange } } : {}),
    ...(reason && windowStop && !input.stop?.aborted ? { windowStop } : {}),
  };
}

/** The host's reboot overrides (read as the `reboot` module reads them); `pollMs` of the input wins (tests). */
function rebootTuning(
  vars: Record<string, unknown>,
  pollMs: number | undefined,
): { pollMs: number; rebootCommand?: string } {
  const o = rebootOverrides(vars);
  return { pollMs: pollMs ?? o.pollMs, ...(o.command ? { rebootCommand: o.command } : {}) };
}
