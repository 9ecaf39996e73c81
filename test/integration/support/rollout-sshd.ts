/**
 * A rollout over real sshd hosts whose boot is a test double (test/fixtures/trial-boot/fake-boot: GRUB's
 * one-shot/saved logic over a throwaway root, a new boot_id, /proc/cmdline from the chosen entry): one root per
 * host, an in-memory journal, every event kept.
 */
import { writeFileSync } from 'node:fs';
import type { SshdFleet } from '../../../src/lab/sshd-fleet.js';
import { Journal } from '../../../src/journal/journal.js';
import { parsePlaybook } from '../../../src/load/playbook.js';
import { loadInventory } from '../../../src/load/inventory.js';
import { EventBus, type RollgateEvent } from '../../../src/events/events.js';
import { runRollout } from '../../../src/executor/rollout/rollout.js';
import { planRun } from '../../../src/plan/plan.js';
import { defaultRolloutSettings, type RolloutSettings } from '../../../src/strategy/settings.js';
import { fleetTarget } from './module-host.js';

const FIXTURES = new URL('../../fixtures/trial-boot/', import.meta.url).pathname;

export async function sshdRollout(
  fleet: SshdFleet,
  play: string,
  roots: string[],
  extra: Partial<RolloutSettings> = {},
  vars: Record<string, unknown> | ((index: number) => Record<string, unknown>) = {},
) {
  const file = `${roots[0]}-inventory.json`;
  const hosts = Object.fromEntries(
    roots.map((r, i) => [
      fleet.hosts[i]!.name,
      {
        rollgate_root: r,
        rollgate_reboot_command: `${FIXTURES}fake-boot ${r}`,
        ...(typeof vars === 'function' ? vars(i) : vars),
      },
    ]),
  );
  writeFileSync(file, JSON.stringify({ all: { hosts } }));
  const inventory = loadInventory(file);
  const journal = Journal.open(':memory:');
  const runId = journal.createRun({ kind: 'rollout' }).id;
  const events: RollgateEvent[] = [];
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  const out = await runRollout({
    journal,
    lock: journal.fleetLock(),
    runId,
    inventory,
    bus,
    pollMs: 300,
    planned: planRun(inventory, parsePlaybook(play, 'play.yml')).plays[0]!,
    targets: new Map(roots.map((_, i) => [fleet.hosts[i]!.name, fleetTarget(fleet, i)])),
    power: new Map(),
    settings: { ...defaultRolloutSettings, bootTimeoutSec: 30, verifyServices: [], ...extra },
    approve: async () => true,
  });
  return { out, events, journal, runId };
}

export const finishedHosts = (events: RollgateEvent[]) =>
  events.filter((e) => e.type === 'rollout.host_finished').map((e) => [e.host, e.status]);
