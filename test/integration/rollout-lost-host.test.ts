/**
 * A rollout that loses a host before its trial boot, over real sshd: the connection is cut right after the host's
 * change (a relay in front of its sshd, cut from the event bus, so the next task meets a dead link), and a freeze of
 * the known-good entry that fails half-way. Neither may leave a half-applied host reported as something it is not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import { Journal } from '../../src/journal/journal.js';
import { parsePlaybook } from '../../src/load/playbook.js';
import { loadInventory } from '../../src/load/inventory.js';
import { EventBus, type RollgateEvent } from '../../src/events/events.js';
import { runRollout, type RolloutInput } from '../../src/executor/rollout/rollout.js';
import { readRecord } from '../../src/executor/rollout/host-record.js';
import { planRun } from '../../src/plan/plan.js';
import { defaultRolloutSettings } from '../../src/strategy/settings.js';
import { fleetTarget, hashTree, removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { useRealGrubTools } from './support/grub-root.js';
import { buildRoot } from './support/fake-root.js';
import { cuttableLink, type CuttableLink } from './support/cuttable-link.js';

let fleet: SshdFleet;
let link: CuttableLink;
const roots: string[] = [];

const PLAY = `- hosts: all
  tasks:
    - name: kernel args
      kernel_args: { present: [iommu=pt] }
    - reboot: {}
`;

function root(): string {
  const r = tempRoot('lost');
  roots.push(r);
  buildRoot(r, 'debian');
  useRealGrubTools(r, { grubenv: 'created' });
  return r;
}

/** A one-host rollout of `play` on root `r`, reached through the cuttable link. */
function input(journal: Journal, runId: string, r: string, events: RollgateEvent[], play = PLAY): RolloutInput {
  const file = `${r}-inventory.json`;
  writeFileSync(file, JSON.stringify({ all: { hosts: { [fleet.hosts[0]!.name]: { rollgate_root: r } } } }));
  const inventory = loadInventory(file);
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  return {
    journal,
    lock: journal.fleetLock(),
    runId,
    inventory,
    bus,
    planned: planRun(inventory, parsePlaybook(play, 'rollout.yml')).plays[0]!,
    targets: new Map([
      [fleet.hosts[0]!.name, fleetTarget(fleet, 0, { port: link.port, knownHostsFiles: [link.knownHosts] })],
    ]),
    power: new Map(),
    settings: { ...defaultRolloutSettings },
    approve: async () => true,
  };
}

const finished = (events: RollgateEvent[]) =>
  events.filter((e) => e.type === 'rollout.host_finished') as Array<
    Extract<RollgateEvent, { type: 'rollout.host_finished' }>
  >;

beforeAll(async () => {
  fleet = await startFleet(1);
  link = await cuttableLink(fleet.hosts[0]!, join(fleet.dir, 'known_hosts-link'));
});
afterAll(async () => {
  await link?.close();
  await fleet?.stop();
  roots.forEach(removeRoot);
});

describe('a host lost before its trial boot', () => {
  it('is unreachable and keeps its lock and its phase; once it answers, resume takes every change back', async () => {
    const journal = Journal.open(':memory:');
    const r = root();
    const host = fleet.hosts[0]!.name;
    const before = hashTree(r, ['proc']);
    const runId = journal.createRun({ kind: 'rollout' }).id;
    const events: RollgateEvent[] = [];
    const first = input(journal, runId, r, events);
    // The change is on the host; the link goes before the next task (the bus is synchronous).
    first.bus.on(
      (e) =>
        e.type === 'task.result' &&
        e.host === host &&
        e.module === 'kernel_args' &&
        e.status === 'changed' &&
        link.cut(),
    );
    const out = await runRollout(first);
    expect(out.result).toBe('failed');
    expect(out.hosts.get(host)).toBe('unreachable');
    const [lost] = finished(events);
    expect(lost).toMatchObject({ host, status: 'unreachable' });
    expect(lost!.message).toContain(
      `its changes may be in place: it keeps its lock, and once it answers \`rollgate resume ${runId}\` takes them back`,
    );
    expect(events.some((e) => e.type === 'rollout.needs_person')).toBe(false);
    expect(readRecord(journal, runId, host).phase).toBe('applying');
    expect((await journal.fleetLock().listHostLocks()).map((l) => l.runId)).toContain(runId);
    expect(hashTree(r, ['proc'])).not.toBe(before);

    link.mend();
    const again: RollgateEvent[] = [];
    const resumed = await runRollout({ ...input(journal, runId, r, again), resuming: true });
    expect(resumed.hosts.get(host)).toBe('rolled_back');
    expect(finished(again)[0]!.message).toBe('stopped in phase applying, before the trial boot; every change undone');
    expect(hashTree(r, ['proc'])).toBe(before);
    expect(await journal.fleetLock().listHostLocks()).toEqual([]);
    journal.close();
  });

  it('a freeze of the known-good entry that fails half-way is undone: the host failed, its root as before', async () => {
    link.mend();
    const journal = Journal.open(':memory:');
    const r = root();
    const host = fleet.hosts[0]!.name;
    // grub-set-default cannot write grubenv once the freeze has copied the kernel and regenerated grub.cfg.
    const tool = join(r, 'usr/sbin/grub-set-default');
    rmSync(tool); // a link to the machine's own tool: replaced, never written through
    writeFileSync(tool, '#!/bin/sh\necho "grub-set-default: cannot write grubenv" >&2\nexit 1\n', { mode: 0o755 });
    const beforeFreeze = hashTree(r, ['proc']);
    const runId = journal.createRun({ kind: 'rollout' }).id;
    const events: RollgateEvent[] = [];
    const out = await runRollout(input(journal, runId, r, events));
    expect(out.hosts.get(host)).toBe('failed');
    const [end] = finished(events);
    expect(end!.message).toMatch(
      /^the known-good entry could not be frozen: .*cannot write grubenv.*; what the freeze wrote is undone$/,
    );
    expect(events.some((e) => e.type === 'task.result')).toBe(false);
    expect(hashTree(r, ['proc'])).toBe(beforeFreeze);
    expect(await journal.fleetLock().listHostLocks()).toEqual([]);
    journal.close();
  });
});
