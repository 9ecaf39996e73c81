/**
 * The staged rollout: lock every host of the run, learn each host's hardware kind from a snapshot, plan canaries
 * and batches, then move batch after batch through runHost, stopping as soon as a canary fails, the failure
 * threshold is crossed or a host needs a person. Hosts not started stay untouched. The plan is stored with the
 * run, so `resume` walks the same plan: finished hosts are skipped, interrupted ones re-enter their phase.
 */
import type { Connection } from '../../connection/connection.js';
import { SshConnection } from '../../connection/ssh.js';
import type { SshTarget } from '../../connection/target.js';
import type { RolloutHostStatus, RolloutResult, RollgateEvent } from '../../events/events.js';
import type { Journal } from '../../journal/journal.js';
import type { InventoryHost } from '../../load/inventory.js';
import type { Play } from '../../load/playbook-types.js';
import { collectSnapshot } from '../../modules/facts/collect.js';
import { valueOf } from '../../modules/facts/known.js';
import { hostRootFromVars } from '../../modules/host-root.js';
import type { PowerDriver } from '../../power/driver.js';
import { hardwareKind } from '../../strategy/hardware-kind.js';
import { planRollout, type PlannedBatch } from '../../strategy/plan.js';
import type { Pause, RolloutSettings } from '../../strategy/settings.js';
import { decideStop } from '../../strategy/threshold.js';
import { runHost } from './host-run.js';

export interface RolloutInput {
  journal: Journal;
  runId: string;
  play: Play;
  /** Selected hosts, in inventory order. */
  hosts: InventoryHost[];
  targets: Map<string, SshTarget>;
  power: Map<string, PowerDriver | null>;
  settings: RolloutSettings;
  emit(e: RollgateEvent): void;
  /** Asked at an approval pause; false stops the rollout. */
  approve(before: PlannedBatch): Promise<boolean>;
  /** Re-entering a run whose controller stopped. */
  resuming?: boolean;
  /** Hosts worked on at once inside a batch. Default 10. */
  forks?: number;
  pollMs?: number;
}

export interface RolloutOutcome {
  result: RolloutResult;
  hosts: Map<string, RolloutHostStatus>;
  stopped?: string;
}

/** Kinds from a quick snapshot of every host; an unreachable host gets the unknown kind (it fails in its batch). */
async function kindsOf(input: RolloutInput): Promise<Array<{ name: string; kind: string }>> {
  return Promise.all(
    input.hosts.map(async (h) => {
      let conn: Connection | undefined;
      try {
        conn = await SshConnection.open(input.targets.get(h.name) as SshTarget);
        const snap = await collectSnapshot(conn, h);
        const ids = (valueOf(snap.pci) ?? []).filter((d) => d.driver === 'vfio-pci' || (Array.isArray(h.vars.passthrough_devices) && h.vars.passthrough_devices.includes(d.id))).map((d) => d.id ?? '');
        return { name: h.name, kind: hardwareKind({ productName: valueOf(snap.hardware)?.kind, cpuVendor: valueOf(snap.cpu)?.vendor, passthroughIds: ids }) };
      } catch {
        return { name: h.name, kind: hardwareKind({}) };
      } finally {
        await conn?.close().catch(() => undefined);
      }
    }),
  );
}

async function pauseFor(input: RolloutInput, batch: PlannedBatch, pause: Pause): Promise<boolean> {
  input.emit({ type: 'rollout.paused', at: Date.now(), runId: input.runId, before: { phase: batch.phase, index: batch.index }, pause: pause.kind === 'approval' ? 'approval' : 'seconds', ...(pause.kind === 'seconds' ? { seconds: pause.seconds } : {}) });
  if (pause.kind === 'seconds') await new Promise((r) => setTimeout(r, pause.seconds * 1000));
  else if (!(await input.approve(batch))) return false;
  input.emit({ type: 'rollout.resumed', at: Date.now(), runId: input.runId });
  return true;
}

export function resultOf(statuses: Iterable<RolloutHostStatus>): RolloutResult {
  const all = [...statuses];
  if (all.includes('needs_person')) return 'needs_person';
  if (all.includes('rolled_back')) return 'rolled_back';
  if (all.includes('failed') || all.includes('unreachable')) return 'failed';
  return 'succeeded';
}

export async function runRollout(input: RolloutInput): Promise<RolloutOutcome> {
  const { journal, runId, emit } = input;
  const started = Date.now();
  const names = input.hosts.map((h) => h.name);
  const lock = journal.fleetLock();
  const got = await lock.acquireHostLocks(runId, names);
  if (!got.ok) {
    const message = got.conflicts.map((c) => `${c.host} is locked by run ${c.runId} (${c.holder})`).join('; ');
    emit({ type: 'rollout.stopped', at: Date.now(), runId, reason: 'lock_refused', message, untouched: names });
    return { result: 'lock_refused', hosts: new Map(), stopped: message };
  }
  const run = journal.getRun(runId);
  let batches = (run?.options as { plan?: PlannedBatch[] } | undefined)?.plan;
  if (!batches) {
    const plan = planRollout(await kindsOf(input), input.settings);
    batches = plan.batches;
    journal.db.prepare('UPDATE runs SET options = ? WHERE id = ?').run(JSON.stringify({ ...(run?.options ?? {}), plan: batches, kinds: Object.fromEntries(plan.kinds) }), runId);
    for (const h of input.hosts) if (!journal.listHosts(runId).some((r) => r.host === h.name)) journal.addHost(runId, h.name, {}, 'pending');
    emit({ type: 'rollout.started', at: Date.now(), runId, hosts: names, batches: batches.map((b) => ({ phase: b.phase, index: b.index, hosts: b.hosts })), kinds: Object.fromEntries(plan.kinds) });
  }
  const statuses = new Map<string, RolloutHostStatus>();
  let stopped: string | undefined;
  for (const [bi, batch] of batches.entries()) {
    if (batch.pauseBefore && !input.resuming && !(await pauseFor(input, batch, batch.pauseBefore))) {
      stopped = 'not approved';
    }
    if (stopped) {
      const untouched = batches.slice(bi).flatMap((b) => b.hosts);
      emit({ type: 'rollout.stopped', at: Date.now(), runId, reason: 'approval', message: stopped, untouched });
      break;
    }
    emit({ type: 'rollout.batch_started', at: Date.now(), runId, phase: batch.phase, index: batch.index, hosts: batch.hosts });
    const outcomes: Array<{ host: string; status: RolloutHostStatus }> = [];
    const queue = [...batch.hosts];
    const stopNow = () => decideStop({ phase: batch.phase, size: batch.hosts.length, outcomes }, input.settings.maxFailPercentage).stop;
    const worker = async () => {
      // Each worker takes hosts until the queue is empty or the batch must stop; bounded by the batch size.
      for (let h = queue.shift(); h !== undefined; h = stopNow() ? undefined : queue.shift()) {
        const inv = input.hosts.find((x) => x.name === h) as InventoryHost;
        const target = input.targets.get(h) as SshTarget;
        const r = await runHost({
          runId, host: inv, play: input.play, settings: input.settings, journal, emit,
          open: () => SshConnection.open(target),
          power: input.power.get(h) ?? null,
          hr: hostRootFromVars(inv.vars),
          collect: (conn) => collectSnapshot(conn, inv),
          rebootCommand: typeof inv.vars.rollgate_reboot_command === 'string' ? inv.vars.rollgate_reboot_command : undefined,
          serialLog: typeof inv.vars.rollgate_console_log === 'string' ? inv.vars.rollgate_console_log : undefined,
          pollMs: input.pollMs,
          resuming: input.resuming,
        });
        outcomes.push({ host: h, status: r.status });
        statuses.set(h, r.status);
      }
    };
    await Promise.all(Array.from({ length: Math.min(input.forks ?? 10, batch.hosts.length) }, worker));
    emit({ type: 'rollout.batch_finished', at: Date.now(), runId, phase: batch.phase, index: batch.index, outcomes });
    const decision = decideStop({ phase: batch.phase, size: batch.hosts.length, outcomes }, input.settings.maxFailPercentage);
    if (decision.stop) {
      stopped = decision.message;
      const untouched = [...queue, ...batches.slice(bi + 1).flatMap((b) => b.hosts)];
      emit({ type: 'rollout.stopped', at: Date.now(), runId, reason: decision.reason, message: decision.message, untouched });
      break;
    }
  }
  const result = resultOf(statuses.values());
  // A host that needs a person keeps its lock: no other run may touch it until someone looks.
  const release = names.filter((n) => statuses.get(n) !== 'needs_person');
  await lock.releaseHostLocks(runId, release);
  journal.finishRun(runId, result === 'succeeded' ? 'succeeded' : result === 'lock_refused' ? 'failed' : result);
  const counts = { ok: 0, changed: 0, failed: 0, unreachable: 0, rolled_back: 0, needs_person: 0 };
  for (const s of statuses.values()) counts[s]++;
  emit({ type: 'rollout.finished', at: Date.now(), runId, result, counts, ms: Date.now() - started });
  return { result, hosts: statuses, ...(stopped ? { stopped } : {}) };
}
