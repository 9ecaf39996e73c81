/**
 * playbooks/kernel-update.yml as a staged rollout with `-e target_kernel=X` on real sshd hosts whose boot is the
 * trial-boot test double (real grubenv, fake-boot): a host already running X is a true no-op (no reboot, nothing
 * rolled back, no ROLLBACK line), and a host with X installed but not running gets its trial boot of X instead of
 * "nothing to change". The snapshots are the real machine's, so verifying that X runs fails and the canary is
 * rolled back: what matters here is that the trial boot of X happened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import { Journal } from '../../src/journal/journal.js';
import { loadPlaybook } from '../../src/load/playbook.js';
import { loadInventory } from '../../src/load/inventory.js';
import { EventBus, type RollgateEvent } from '../../src/events/events.js';
import { runRollout } from '../../src/executor/rollout/rollout.js';
import { planRun } from '../../src/plan/plan.js';
import { defaultRolloutSettings } from '../../src/strategy/settings.js';
import { rolloutPlainRenderer } from '../../src/render/rollout-plain.js';
import { fleetTarget, removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { useRealGrubTools } from './support/grub-root.js';
import { buildRoot, put, rebuildDerived, TEST_KERNEL } from './support/fake-root.js';

const FIXTURES = new URL('../fixtures/trial-boot/', import.meta.url).pathname;
const PLAYBOOK = new URL('../../playbooks/kernel-update.yml', import.meta.url).pathname;
let fleet: SshdFleet;
const roots: string[] = [];

function root(installed: string[] = []): string {
  const r = tempRoot('kupdate');
  roots.push(r);
  buildRoot(r, 'debian');
  useRealGrubTools(r, { grubenv: 'created' });
  for (const k of installed) {
    put(r, `boot/vmlinuz-${k}`, `kernel image ${k}\n`);
    put(r, `boot/initrd.img-${k}`, `initrd ${k}\n`);
    put(r, `usr/lib/modules/${k}/modules.builtin`, 'kernel/drivers/pci/pci-stub.ko\n');
  }
  rebuildDerived(r);
  return r;
}

async function rollout(r: string, targetKernel: string) {
  const host = fleet.hosts[0]!.name;
  const file = `${r}-inventory.json`;
  writeFileSync(
    file,
    JSON.stringify({
      all: { hosts: { [host]: { rollgate_root: r, rollgate_reboot_command: `${FIXTURES}fake-boot ${r}` } } },
    }),
  );
  const inventory = loadInventory(file);
  const journal = Journal.open(':memory:');
  const runId = journal.createRun({ kind: 'rollout' }).id;
  const events: RollgateEvent[] = [];
  let plain = '';
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  bus.on(rolloutPlainRenderer((t) => (plain += t)));
  const out = await runRollout({
    journal,
    lock: journal.fleetLock(),
    runId,
    inventory,
    bus,
    pollMs: 300,
    extraVars: { target_kernel: targetKernel },
    planned: planRun(inventory, loadPlaybook(PLAYBOOK)).plays[0]!,
    targets: new Map([[host, fleetTarget(fleet, 0)]]),
    power: new Map(),
    settings: { ...defaultRolloutSettings, bootTimeoutSec: 30, verifyServices: [] },
    approve: async () => true,
  });
  const steps = journal.listSteps(runId, host).map((s) => [s.module, s.status, s.message]);
  journal.close();
  return { out, events, plain, steps, host };
}

beforeAll(async () => {
  fleet = await startFleet(1);
});
afterAll(async () => {
  await fleet?.stop();
  for (const r of roots) {
    removeRoot(r);
    rmSync(`${r}-inventory.json`, { force: true });
  }
});

describe('kernel-update.yml with -e target_kernel as a staged rollout', () => {
  it('is a true no-op on a host already running the target: ok, no reboot, no ROLLBACK line', async () => {
    const { out, events, plain, steps, host } = await rollout(root(), TEST_KERNEL);
    expect(out.result, plain).toBe('succeeded');
    expect(events.find((e) => e.type === 'rollout.host_finished')).toMatchObject({
      host,
      status: 'ok',
      message: 'nothing to change',
    });
    expect(plain).not.toMatch(/ROLLBACK|rolled.back/i);
    expect(events.some((e) => e.type === 'rollout.rollback')).toBe(false);
    expect(steps).toContainEqual(['kernel_package', 'ok', `kernel ${TEST_KERNEL} is installed and running`]);
    expect(plain).toContain(`${host}: ok (`);
  });

  it('boots a target that is installed but not running: its trial boot happens (no "nothing to change")', async () => {
    const { out, events, plain, host } = await rollout(root(['6.1.0-51-test']), '6.1.0-51-test');
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'task.result',
        host,
        task: 'Install the kernel release, or adopt the newest installed one',
        status: 'changed',
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'rollout.host_step',
        host,
        step: 'arm the trial boot',
        status: 'ok',
        message: expect.stringMatching(/^one-shot 6\.1\.0-51-test /),
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'rollout.host_step', host, step: 'trial boot', status: 'ok' }),
    );
    // This machine's own kernel answers `uname -r` after the fake boot, so the kernel check fails and rolls back.
    const verification = events.find((e) => e.type === 'rollout.verification' && e.against === 'candidate') as Extract<
      RollgateEvent,
      { type: 'rollout.verification' }
    >;
    expect(verification.checks.find((c) => c.name === 'kernel')).toMatchObject({
      ok: false,
      expected: '6.1.0-51-test',
    });
    expect(out.result, plain).toBe('rolled_back');
  });
});
