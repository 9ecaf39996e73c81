/**
 * The rollout's plan, made once per run and kept with it: every host's hardware kind from a quick snapshot
 * (an unreachable host gets the unknown kind and fails in its batch), canaries and batches from the settings.
 * A resumed run reads the stored plan back. Also the pauses between phases.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from '../../connection/connection.js';
import type { SshTarget } from '../../connection/target.js';
import { collectSnapshot } from '../../modules/facts/collect.js';
import { valueOf } from '../../modules/facts/known.js';
import { hardwareKind } from '../../strategy/hardware-kind.js';
import { planRollout, type PlannedBatch } from '../../strategy/plan.js';
import type { Pause } from '../../strategy/settings.js';
import { decideWindow, describeWindow, localTime } from '../../strategy/window.js';
import { passthroughIdsOf } from './expectations.js';
import type { RolloutWork } from './rollout.js';
import { runPool } from '../pool.js';

/** The rollout's inputs, in the run it works in. */
type InRun = RolloutWork & { runId: string };

async function kindsOf(
  input: InRun,
  open: (t: SshTarget) => Promise<Connection>,
): Promise<Array<{ name: string; kind: string }>> {
  const kinds = new Array<{ name: string; kind: string }>(input.planned.hosts.length);
  // The snapshots before the plan: as many hosts at once as a batch works on (--forks), through the one pool.
  await runPool({
    limit: input.forks ?? 10,
    items: input.planned.hosts,
    work: async (name, index) => {
      kinds[index] = await kindOf(input, open, name);
    },
  });
  return kinds;
}

/** What tells hardware kinds apart: DMI's product, the CPU vendor, the PCI devices (3 of the snapshot's ~30 sources). */
const KIND_FACTS = ['dmi', 'cpuinfo', 'lspci'] as const;

/** A host's hardware kind from its snapshot; a host that cannot be read is of the unknown kind. */
async function kindOf(
  input: InRun,
  open: (t: SshTarget) => Promise<Connection>,
  name: string,
): Promise<{ name: string; kind: string }> {
  const h = input.inventory.hosts.get(name)!;
  let conn: Connection | undefined;
  try {
    conn = await open(input.targets.get(name)!);
    const snap = await collectSnapshot(conn, h, { only: KIND_FACTS });
    const wanted = passthroughIdsOf(h.vars);
    const ids = (valueOf(snap.pci) ?? [])
      .filter((d) => d.driver === 'vfio-pci' || (d.id !== null && d.id !== undefined && wanted.includes(d.id)))
      .map((d) => d.id ?? '');
    return {
      name,
      kind: hardwareKind({
        productName: valueOf(snap.hardware)?.kind,
        cpuVendor: valueOf(snap.cpu)?.vendor,
        passthroughIds: ids,
      }),
    };
  } catch {
    return { name, kind: hardwareKind({}) };
  } finally {
    await conn?.close().catch(() => undefined);
  }
}

/** The stored plan of a resumed run, or a new one (stored with the run, hosts added as pending). */
export async function planOrResume(input: InRun, open: (t: SshTarget) => Promise<Connection>): Promise<PlannedBatch[]> {
  const { journal, runId } = input;
  const run = journal.getRun(runId);
  const stored = (run?.options as { plan?: PlannedBatch[] } | undefined)?.plan;
  if (stored) return stored;
  const plan = planRollout(await kindsOf(input, open), input.settings);
  // Before any change (and before the listr view starts): a host that hangs in a boot cannot be reset.
  for (const host of input.planned.hosts) {
    if (input.power.get(host)) continue;
    input.bus.emit({
      type: 'rollout.warning',
      at: Date.now(),
      runId,
      host,
      code: 'no_power_driver',
      message: `${host} has no power driver (rollgate_power): if a boot hangs, rollgate cannot power-reset it and the host will need a person`,
      hint: 'give it rollgate_power: {driver: ipmi | redfish | qmp, ...} in the inventory',
    });
  }
  for (const warning of windowNotices(input))
    input.bus.emit({ type: 'rollout.warning', at: Date.now(), runId, ...warning });
  journal.setRunOptions(runId, { ...(run?.options ?? {}), plan: plan.batches, kinds: Object.fromEntries(plan.kinds) });
  const known = new Set(journal.listHosts(runId).map((r) => r.host));
  for (const h of input.planned.hosts) if (!known.has(h)) journal.addHost(runId, h, {}, 'pending');
  input.bus.emit({
    type: 'rollout.started',
    at: Date.now(),
    runId,
    hosts: input.planned.hosts,
    batches: plan.batches.map((b) => ({ phase: b.phase, index: b.index, hosts: b.hosts })),
    kinds: Object.fromEntries(plan.kinds),
  });
  return plan.batches;
}

/**
 * Before any change, what the plan says about maintenance windows: each host outside its window now, and whether
 * its change will wait for the window to open (and until when) or stop the rollout. The gate decides again at the
 * host's turn (window-gate.ts); this is the operator's notice up front.
 */
export function windowNotices(
  input: Pick<RolloutWork, 'planned' | 'window' | 'settings'>,
): Array<{ host: string; code: 'outside_window'; message: string; hint: string }> {
  const w = input.window;
  const now = (w?.now ?? Date.now)();
  const notices = [];
  for (const host of input.planned.hosts) {
    const win = w?.byHost?.get(host) ?? w?.window ?? input.settings.window;
    if (!win) continue;
    const d = decideWindow(win, now);
    if (d.go) continue;
    const where = `${host} is outside its maintenance window (${describeWindow(win)}) now`;
    notices.push({
      host,
      code: 'outside_window' as const,
      message: d.wait
        ? `${where}: its change will wait until the window opens at ${localTime(d.until, win.timeZone)}`
        : `${where}: ${d.message.replace(/^outside the maintenance window \([^)]*\)[:;] /, '')}; the rollout stops before its change unless the window is open by its turn`,
      hint:
        win.onOutside === 'stop'
          ? 'run it inside the window, or set on_outside: wait'
          : 'run it inside the window, or change the window (rollgate_window, --reboot-days / --start-time / --end-time)',
    });
  }
  return notices;
}

/** A pause before a batch (seconds, or the operator's approval); false when the rollout must not go on. */
export async function pauseFor(input: InRun, batch: PlannedBatch, pause: Pause, stop?: AbortSignal): Promise<boolean> {
  const { runId } = input;
  input.bus.emit({
    type: 'rollout.paused',
    at: Date.now(),
    runId,
    before: { phase: batch.phase, index: batch.index },
    pause: pause.kind === 'approval' ? 'approval' : 'seconds',
    ...(pause.kind === 'seconds' ? { seconds: pause.seconds } : {}),
  });
  if (pause.kind === 'seconds')
    await sleep(pause.seconds * 1000, undefined, stop ? { signal: stop } : {}).catch(() => undefined);
  else if (!(await input.approve(batch))) return false;
  if (stop?.aborted) return false;
  input.bus.emit({ type: 'rollout.resumed', at: Date.now(), runId });
  return true;
}
