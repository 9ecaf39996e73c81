import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import { Journal } from '../../src/journal/journal.js';
import { parsePlaybook } from '../../src/load/playbook.js';
import type { InventoryHost } from '../../src/load/inventory.js';
import type { RollgateEvent } from '../../src/events/events.js';
import { runRollout } from '../../src/executor/rollout/rollout.js';
import { defaultRolloutSettings } from '../../src/strategy/settings.js';
import { fleetTarget, hashTree, removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { buildRoot } from './support/fake-root.js';

const FIXTURES = new URL('../fixtures/trial-boot/', import.meta.url).pathname;
let fleet: SshdFleet;
const roots: string[] = [];

const PLAY = `- name: enable iommu=pt
  hosts: all
  serial: 1
  tasks:
    - name: kernel args
      kernel_args:
        present: [iommu=pt]
`;

function root(grubDefault = 'saved'): string {
  const r = tempRoot('rollout');
  roots.push(r);
  buildRoot(r, 'debian');
  copyFileSync(join(FIXTURES, 'grub-mkconfig'), join(r, 'usr/sbin/grub-mkconfig'));
  copyFileSync(join(FIXTURES, 'grub-probe'), join(r, 'usr/sbin/grub-probe'));
  mkdirSync(join(r, 'usr/bin'), { recursive: true });
  symlinkSync('/usr/bin/grub-editenv', join(r, 'usr/bin/grub-editenv'));
  for (const t of ['grub-reboot', 'grub-set-default']) symlinkSync(`/usr/sbin/${t}`, join(r, 'usr/sbin', t));
  writeFileSync(join(r, 'etc/default/grub'), readFileSync(join(r, 'etc/default/grub'), 'utf8').replace('GRUB_DEFAULT=saved', `GRUB_DEFAULT=${grubDefault}`));
  return r;
}

function hosts(rs: string[]): InventoryHost[] {
  return rs.map((r, i) => ({ name: fleet.hosts[i]!.name, vars: { rollgate_root: r }, groups: [], origin: { file: 'inv', line: 1, column: 1 }, varOrigins: {} }));
}

function input(journal: Journal, runId: string, hs: InventoryHost[], events: RollgateEvent[]) {
  return {
    journal, runId, hosts: hs,
    play: parsePlaybook(PLAY, 'rollout.yml').plays[0]!,
    targets: new Map(hs.map((h, i) => [h.name, fleetTarget(fleet, i)])),
    power: new Map(),
    settings: { ...defaultRolloutSettings, serial: 1 },
    emit: (e: RollgateEvent) => events.push(e),
    approve: async () => true,
  };
}

beforeAll(async () => {
  fleet = await startFleet(2);
});
afterAll(async () => {
  await fleet?.stop();
  roots.forEach(removeRoot);
});

describe('rollout engine over real sshd hosts (no reboot: these paths stop before one)', () => {
  it('refuses a second run on hosts another run holds, touching nothing', async () => {
    const journal = Journal.open(':memory:');
    const rs = [root(), root()];
    const before = rs.map((r) => hashTree(r, ['proc']));
    const first = journal.createRun({ kind: 'rollout' }).id;
    expect((await journal.fleetLock().acquireHostLocks(first, [fleet.hosts[1]!.name])).ok).toBe(true);
    const second = journal.createRun({ kind: 'rollout' }).id;
    const events: RollgateEvent[] = [];
    const out = await runRollout(input(journal, second, hosts(rs), events));
    expect(out.result).toBe('lock_refused');
    expect(events.map((e) => e.type)).toEqual(['rollout.stopped']);
    expect(events[0]).toMatchObject({ reason: 'lock_refused', untouched: [fleet.hosts[0]!.name, fleet.hosts[1]!.name] });
    expect((events[0] as { message: string }).message).toContain(`is locked by run ${first}`);
    expect(rs.map((r) => hashTree(r, ['proc']))).toEqual(before);
    journal.close();
  });

  it('stops at a canary whose preflight refuses the one-shot, leaving every host untouched and the locks free', async () => {
    const journal = Journal.open(':memory:');
    const rs = [root('0'), root()];
    const before = rs.map((r) => hashTree(r, ['proc']));
    const runId = journal.createRun({ kind: 'rollout' }).id;
    const events: RollgateEvent[] = [];
    const out = await runRollout(input(journal, runId, hosts(rs), events));
    expect(out.result).toBe('failed');
    const finished = events.find((e) => e.type === 'rollout.host_finished');
    expect(finished).toMatchObject({ host: fleet.hosts[0]!.name, status: 'failed' });
    expect((finished as { message: string }).message).toContain('GRUB_DEFAULT is "0", not saved');
    expect(events.find((e) => e.type === 'rollout.stopped')).toMatchObject({ reason: 'canary_failed', untouched: [fleet.hosts[1]!.name] });
    expect(rs.map((r) => hashTree(r, ['proc']))).toEqual(before);
    expect(await journal.fleetLock().listHostLocks()).toEqual([]);
    expect(journal.getRun(runId)?.status).toBe('failed');
    journal.close();
  });
});
