import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import { Journal } from '../../src/journal/journal.js';
import { parsePlaybook } from '../../src/load/playbook.js';
import { loadInventory, type InventoryHost } from '../../src/load/inventory.js';
import { EventBus, type RollgateEvent } from '../../src/events/events.js';
import { runRollout } from '../../src/executor/rollout/rollout.js';
import { addressSubjects } from '../../src/executor/machine-identity.js';
import { planRun } from '../../src/plan/plan.js';
import { fleetTarget, hashTree, removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { defaultRolloutSettings } from '../../src/strategy/settings.js';
import { useRealGrubTools } from './support/grub-root.js';
import { buildRoot, put } from './support/fake-root.js';
import { QmpPowerDriver } from '../../src/power/qmp.js';

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
  useRealGrubTools(r, { grubDefault, grubenv: 'created' });
  return r;
}

/** An inventory of the fleet's hosts, each with its throwaway root. */
function hosts(rs: string[]): InventoryHost[] {
  const file = join(rs[0]!, '..', `${rs[0]!.split('/').pop()}-inventory.json`);
  const all = Object.fromEntries(rs.map((r, i) => [fleet.hosts[i]!.name, { rollgate_root: r }]));
  writeFileSync(file, JSON.stringify({ all: { hosts: all } }));
  inventoryFiles.push(file);
  const inv = loadInventory(file);
  return [...inv.hosts.values()];
}
const inventoryFiles: string[] = [];

function input(
  journal: Journal,
  runId: string,
  hs: InventoryHost[],
  events: RollgateEvent[],
  play = PLAY,
  extra: Partial<typeof defaultRolloutSettings> = {},
) {
  const inventory = loadInventory(inventoryFiles.at(-1)!);
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  return {
    journal,
    lock: journal.fleetLock(),
    runId,
    inventory,
    bus,
    planned: planRun(inventory, parsePlaybook(play, 'rollout.yml')).plays[0]!,
    targets: new Map(hs.map((h, i) => [h.name, fleetTarget(fleet, i)])),
    power: new Map(),
    settings: { ...defaultRolloutSettings, serial: [{ kind: 'count' as const, value: 1 }], ...extra },
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
    // The first run holds the second host's machine (by its address, as a run locks it before connecting).
    expect((await journal.fleetLock().acquireHostLocks(first, addressSubjects([fleetTarget(fleet, 1)]))).ok).toBe(true);
    const second = journal.createRun({ kind: 'rollout' }).id;
    const events: RollgateEvent[] = [];
    const out = await runRollout(input(journal, second, hosts(rs), events));
    expect(out.result).toBe('lock_refused');
    expect(events.map((e) => e.type)).toEqual(['rollout.stopped']);
    expect(events[0]).toMatchObject({
      reason: 'lock_refused',
      untouched: [fleet.hosts[0]!.name, fleet.hosts[1]!.name],
    });
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
    expect(events.find((e) => e.type === 'rollout.stopped')).toMatchObject({
      reason: 'canary_failed',
      untouched: [fleet.hosts[1]!.name],
    });
    expect(rs.map((r) => hashTree(r, ['proc']))).toEqual(before);
    expect(await journal.fleetLock().listHostLocks()).toEqual([]);
    expect(journal.getRun(runId)?.status).toBe('failed');
    journal.close();
  });
});

describe('the trial-boot preflight on real files', () => {
  it('refuses a host whose grubenv grub-editenv cannot write (chattr +i), naming the cause and the fix, before any change', async () => {
    const journal = Journal.open(':memory:');
    const rs = [root()];
    const env = join(rs[0]!, 'boot/grub/grubenv');
    const before = hashTree(rs[0]!, ['proc']);
    execFileSync('chattr', ['+i', env]);
    try {
      // What the one-shot would meet: the real grub-editenv fails on it.
      expect(() => execFileSync('grub-editenv', [env, 'set', 'next_entry=x'], { stdio: 'pipe' })).toThrow(
        /Operation not permitted/,
      );
      const runId = journal.createRun({ kind: 'rollout' }).id;
      const events: RollgateEvent[] = [];
      const out = await runRollout(input(journal, runId, hosts(rs), events));
      expect(out.result).toBe('failed');
      const finished = events.find((e) => e.type === 'rollout.host_finished') as { status: string; message: string };
      expect(finished.status).toBe('failed');
      expect(finished.message).toContain(
        `preflight refused: /boot/grub/grubenv is immutable (chattr +i; Operation not permitted): grub-editenv cannot write it`,
      );
      expect(finished.message).toContain('(chattr -i /boot/grub/grubenv, once you know why it was set)');
      expect(events.some((e) => e.type === 'rollout.host_step' && e.step === 'freeze the known-good boot entry')).toBe(
        false,
      );
      expect(await journal.fleetLock().listHostLocks()).toEqual([]);
    } finally {
      execFileSync('chattr', ['-i', env]);
    }
    expect(hashTree(rs[0]!, ['proc'])).toBe(before);
    journal.close();
  });
});

describe('plan-time warnings', () => {
  it('warns about a host no power driver can reset while planning, before any host is changed', async () => {
    const journal = Journal.open(':memory:');
    const rs = [root(), root()];
    const runId = journal.createRun({ kind: 'rollout' }).id;
    const events: RollgateEvent[] = [];
    const [withDriver, without] = [fleet.hosts[0]!.name, fleet.hosts[1]!.name];
    const play = `- hosts: all\n  tasks:\n    - command: 'true'\n      changed_when: false\n`;
    const out = await runRollout({
      ...input(journal, runId, hosts(rs), events, play),
      power: new Map([
        [withDriver, new QmpPowerDriver('/nonexistent/qmp.sock')],
        [without, null],
      ]),
    });
    expect(out.result).toBe('succeeded');
    const warnings = events.filter((e) => e.type === 'rollout.warning');
    expect(warnings).toEqual([expect.objectContaining({ host: without, code: 'no_power_driver' })]);
    expect((warnings[0] as { message: string }).message).toBe(
      `${without} has no power driver (rollgate_power): if a boot hangs, rollgate cannot power-reset it and the host will need a person`,
    );
    const first = (type: string) => events.findIndex((e) => e.type === type);
    expect(first('rollout.warning')).toBeLessThan(first('rollout.started'));
    expect(first('rollout.started')).toBeLessThan(first('rollout.host_step'));
    journal.close();
  });
});

describe('the play runs through the playbook executor (no reboot: these paths stop before one)', () => {
  it('takes back the frozen entry and reports ok when the play changes nothing, without rebooting', async () => {
    const journal = Journal.open(':memory:');
    const rs = [root()];
    const before = hashTree(join(rs[0]!, 'etc'));
    const runId = journal.createRun({ kind: 'rollout' }).id;
    const events: RollgateEvent[] = [];
    const play = `- hosts: all
  tasks:
    - command: cat {{ rollgate_root }}/etc/default/grub
      register: grub
      changed_when: false
    - kernel_args: { present: [iommu=pt] }
      when: "'iommu=pt' in grub.stdout"
`;
    const out = await runRollout(input(journal, runId, hosts(rs), events, play));
    expect(
      out.result,
      JSON.stringify(events.filter((e) => e.type === 'rollout.host_finished' || e.type === 'task.result')),
    ).toBe('succeeded');
    expect(events.find((e) => e.type === 'rollout.host_finished')).toMatchObject({
      status: 'ok',
      message: 'nothing to change',
    });
    expect(events.filter((e) => e.type === 'task.result').map((e) => (e as { status: string }).status)).toEqual([
      'ok',
      'skipped',
    ]);
    expect(events.some((e) => e.type === 'rollout.host_step' && e.step.startsWith('reboot'))).toBe(false);
    expect(hashTree(join(rs[0]!, 'etc'))).toBe(before);
    expect(readFileSync(join(rs[0]!, 'boot/grub/grub.cfg'), 'utf8')).not.toContain('rollgate');
    journal.close();
  });

  it('undoes every change and stops when a task fails before the trial boot', async () => {
    const journal = Journal.open(':memory:');
    const rs = [root(), root()];
    const before = rs.map((r) => hashTree(join(r, 'etc')));
    const runId = journal.createRun({ kind: 'rollout' }).id;
    const events: RollgateEvent[] = [];
    const play = `- hosts: all
  serial: 1
  tasks:
    - kernel_args: { present: [iommu=pt] }
      register: args
    - fail: { msg: "refusing after a change ({{ args.changed }})" }
      when: args is changed
`;
    const out = await runRollout(input(journal, runId, hosts(rs), events, play));
    expect(out.result).toBe('rolled_back');
    const finished = events.find((e) => e.type === 'rollout.host_finished') as {
      host: string;
      status: string;
      message: string;
    };
    expect(finished).toMatchObject({ host: fleet.hosts[0]!.name, status: 'rolled_back' });
    expect(finished.message).toContain('refusing after a change (True)');
    expect(events.find((e) => e.type === 'rollout.stopped')).toMatchObject({
      reason: 'canary_failed',
      untouched: [fleet.hosts[1]!.name],
    });
    expect(rs.map((r) => hashTree(join(r, 'etc')))).toEqual(before);
    expect(journal.undoableSteps(runId, fleet.hosts[0]!.name)).toEqual([]);
    journal.close();
  });

  it('prepare_boot: a task failing before the trial boot takes the boot loader preparation back too', async () => {
    const journal = Journal.open(':memory:');
    const rs = [root('0')];
    const before = hashTree(rs[0]!, ['proc']);
    const runId = journal.createRun({ kind: 'rollout' }).id;
    const events: RollgateEvent[] = [];
    const play = `- hosts: all
  tasks:
    - kernel_args: { present: [iommu=pt] }
    - fail: { msg: refusing after a change }
`;
    const out = await runRollout(input(journal, runId, hosts(rs), events, play, { prepareBoot: true }));
    expect(out.result).toBe('rolled_back');
    expect(
      events
        .filter((e) => e.type === 'rollout.host_step' && e.step.startsWith('prepare the boot loader'))
        .map((e) => (e as { status: string }).status),
    ).toEqual(['started', 'ok']);
    expect(hashTree(rs[0]!, ['proc'])).toBe(before);
    expect(journal.undoableSteps(runId, fleet.hosts[0]!.name)).toEqual([]);
    journal.close();
  });

  it('prepare_boot: a preflight refusing for what it cannot fix (immutable grubenv) leaves the host as it was', async () => {
    const journal = Journal.open(':memory:');
    const rs = [root('0')];
    const env = join(rs[0]!, 'boot/grub/grubenv');
    const before = hashTree(rs[0]!, ['proc']);
    execFileSync('chattr', ['+i', env]);
    try {
      const runId = journal.createRun({ kind: 'rollout' }).id;
      const events: RollgateEvent[] = [];
      const out = await runRollout(input(journal, runId, hosts(rs), events, PLAY, { prepareBoot: true }));
      expect(out.result).toBe('failed');
      const finished = events.find((e) => e.type === 'rollout.host_finished') as { status: string; message: string };
      expect(finished.status).toBe('failed');
      expect(finished.message).toContain('preflight refused: /boot/grub/grubenv is immutable');
      expect(finished.message).not.toContain('GRUB_DEFAULT');
      expect(finished.message).toContain('the boot loader preparation is undone');
    } finally {
      execFileSync('chattr', ['-i', env]);
    }
    expect(hashTree(rs[0]!, ['proc'])).toBe(before);
    journal.close();
  });

  it('rolls back a failed mkdir without its undo command: the directory that was there keeps its data', async () => {
    const journal = Journal.open(':memory:');
    const rs = [root(), root()];
    put(rs[0]!, 'srv/data/precious', 'five years of measurements\n');
    const before = hashTree(rs[0]!, ['proc']);
    const runId = journal.createRun({ kind: 'rollout' }).id;
    const events: RollgateEvent[] = [];
    const play = `- hosts: all
  serial: 1
  tasks:
    - kernel_args: { present: [iommu=pt] }
    - name: make the data dir
      command:
        cmd: mkdir {{ rollgate_root }}/srv/data
        undo: rm -rf {{ rollgate_root }}/srv/data
`;
    const out = await runRollout(input(journal, runId, hosts(rs), events, play));
    expect(out.result).toBe('rolled_back');
    expect(readFileSync(join(rs[0]!, 'srv/data/precious'), 'utf8')).toBe('five years of measurements\n');
    const held = events.find((e) => e.type === 'rollout.host_step' && e.step.startsWith('held back:'));
    expect(held).toMatchObject({ step: `held back: rm -rf ${rs[0]!}/srv/data`, status: 'skipped' });
    expect((held as { message: string }).message).toMatch(
      /^step \d+ "make the data dir" did not finish \(failed\): this undo command assumes the change happened$/,
    );
    expect(hashTree(rs[0]!, ['proc'])).toBe(before);
    journal.close();
  });
});
