/**
 * kill -9 of the controller at three points of one rollout, on three lab VMs of one kind in one cluster
 * (`rollgate_cluster`, `rollgate_max_down: 1`), each time resumed by `rollgate resume RUN`:
 *   1. during the canary's trial boot: resume finds it on its trial, verifies and commits it;
 *   2. in the batch, after the first batch host's change and before its reboot: resume undoes
 *      every change of that host without rebooting it (docs/rollout.md, "Resume": stopped before any reboot);
 *   3. during the rollback of the other batch host, whose trial cannot verify (`no-vfio-after-boot`, armed on both
 *      batch hosts so the scenario does not depend on which of them gets the cluster's slot first: the NIC bound to
 *      vfio-pci by the play is given back to e1000e at boot): resume completes the rollback.
 * The oracle is the journal's timeline (every event of the four controllers, as `rollgate show` reads it): a
 * host's turn runs from its first step to its end, and no two turns of the cluster overlap although both batch
 * hosts are in one batch (without the cap they would run at once), as Ansible's throttle test checks its own cap
 * from the timeline.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import type { RollgateEvent } from '../../src/events/events.js';
import { ensureLab, type Lab } from './lab-harness.js';
import {
  cli,
  finishedOf,
  storyOf,
  FILES_HASH,
  JOURNAL,
  onHost,
  playbookFile,
  runIdOf,
  type CliProcess,
  VFIO_PLAY,
} from './rollout-support.js';
import { elapsed, onClaimed } from './connectivity-support.js';

let lab: Lab;
const CLUSTER = 'e2e-kill';
const NIC = '0000:01:00.0';
beforeAll(async () => {
  lab = await ensureLab();
});

/** The lab inventory with the three hosts in one cluster that lets one host be down at a time. */
function clusterInventory(hosts: string[]): string {
  const doc = load(readFileSync(lab.inventoryFile, 'utf8')) as {
    all: { children: { lab: { hosts: Record<string, Record<string, unknown>> } } };
  };
  for (const h of hosts)
    Object.assign(doc.all.children.lab.hosts[h]!, { rollgate_cluster: CLUSTER, rollgate_max_down: 1 });
  const file = join(JOURNAL, '..', `lab-cluster-${hosts.join('-')}.yml`);
  writeFileSync(file, dump(doc, { lineWidth: 200 }));
  return file;
}

/** Kill the controller with SIGKILL once `match` is seen (after `delayMs`); returns its events. */
async function killAt(p: CliProcess, match: (e: RollgateEvent) => boolean, delayMs: number): Promise<RollgateEvent> {
  const seen = await p.until(match, 40 * 60_000);
  await new Promise((r) => setTimeout(r, delayMs));
  p.child.kill('SIGKILL');
  const done = await p.done;
  expect(done.signal).toBe('SIGKILL');
  return seen;
}

const step = (host: string, name: (s: string) => boolean, status: string) => (e: RollgateEvent) =>
  e.type === 'rollout.host_step' && e.host === host && name(e.step) && e.status === status;

describe('kill -9 at three points of a rollout, resumed each time', () => {
  it('trial boot, after a change before its reboot, during a rollback: each resumed; the cluster never has two hosts down', (t) =>
    onClaimed(
      lab,
      { skip: t.skip, sameKind: 3, label: 'rollout kill -9 at three points', estimateMin: 24, priority: 1 },
      async (claimed) => {
        const started = Date.now();
        const hosts = [...claimed].sort((a, b) => lab.vm(a).index - lab.vm(b).index);
        const [canary, b1, b2] = hosts as [string, string, string];
        const before: Record<string, { files: string; boot: string }> = {};
        for (const h of [b1, b2]) {
          before[h] = { files: await onHost(lab, h, FILES_HASH), boot: await lab.bootId(h) };
          await lab.arm(h, 'no-vfio-after-boot');
        }
        const inventory = clusterInventory(hosts);
        const play = playbookFile(`kill-points-${hosts.join('-')}.yml`, VFIO_PLAY);

        // 1. During the canary's trial boot.
        const first = cli(['rollout', play, '-i', inventory, '--limit', hosts.join(','), '--boot-timeout', '1200']);
        await killAt(
          first,
          step(canary, (s) => s.startsWith('reboot ('), 'started'),
          5000,
        );
        const runId = runIdOf(first.events);

        // 2. The first batch host to get the cluster's slot: after its change, before its reboot.
        const second = cli(['resume', runId]);
        // The change's result, as soon as it is in: drain, arming and the phase's save for the reboot still come (SSH
        // round trips), so the kill lands in phase `applying` even on a loaded machine ('arm the trial boot: ok' left a
        // window of one boot-id read).
        const batchFirst = (e: RollgateEvent) =>
          e.type === 'task.result' &&
          (e.host === b1 || e.host === b2) &&
          e.module === 'vfio_bind' &&
          e.status === 'changed';
        const x = ((await killAt(second, batchFirst, 0)) as { host: string }).host;
        const y = x === b1 ? b2 : b1;

        // 3. During the other batch host's rollback, once its trial failed verification: its reboot back.
        const third = cli(['resume', runId]);
        await killAt(
          third,
          step(y, (s) => s === 'reboot (back to the known-good entry)', 'started'),
          3000,
        );

        const last = cli(['resume', runId]);
        const end = await last.done;
        console.log(`rollout kill -9 at three points: ${elapsed(started)} (first batch host ${x})`);
        const all = [...first.events, ...second.events, ...third.events, ...end.events];
        expect(finishedOf(end.events), storyOf(all, last.stderr())).toMatchObject({ [y]: 'rolled_back' });
        expect(end.code).toBe(3);

        // Every host ended where it should, by the journal's account.
        let stoppedBeforeBoot = true;
        const journal = Journal.open(JOURNAL);
        try {
          const events = journal.listEvents(runId);
          const finished = Object.fromEntries(
            events.filter((e) => e.type === 'rollout.host_finished').map((e) => [e.host, e.data.status]),
          );
          expect(finished, storyOf(all)).toEqual({ [canary]: 'changed', [x]: 'rolled_back', [y]: 'rolled_back' });
          const message = (h: string) =>
            String(events.filter((e) => e.type === 'rollout.host_finished' && e.host === h).at(-1)?.data.message);
          // The kill lands on the change's result, a few SSH round trips before the phase `rebooting` is saved; on a
          // machine so loaded that it came after that save, resume reboots into the armed trial instead (which the
          // fault then fails): either is a documented end, and the checks below follow the one the journal says.
          stoppedBeforeBoot = message(x).includes('before the trial boot; every change undone');
          if (!stoppedBeforeBoot) expect(message(x)).toMatch(/verification|rolled back/);
          expect(message(y)).toContain('resumed during a rollback');

          // The oracle: each host's turn, from its first step (waiting for a slot is not a turn) to its end.
          const turns = hosts.map((h) => {
            const own = events.filter((e) => e.host === h);
            const begin = own.find(
              (e) => e.type === 'rollout.host_step' && !String(e.data.step).startsWith('wait for a down slot'),
            );
            const finish = own.filter((e) => e.type === 'rollout.host_finished').at(-1);
            expect(begin && finish, `${h}: no turn in the journal`).toBeTruthy();
            return { host: h, from: begin!.at, to: finish!.at };
          });
          for (let i = 0; i < turns.length; i++)
            for (let j = i + 1; j < turns.length; j++) {
              const [a, b] = [turns[i]!, turns[j]!];
              expect(
                a.to <= b.from || b.to <= a.from,
                `${a.host} and ${b.host} down together: ${JSON.stringify(turns)}`,
              ).toBe(true);
            }
          // The batch hosts were in one batch: the second waited for the cluster's slot.
          expect(
            events.some(
              (e) => e.host === y && String(e.data.step ?? '').startsWith(`wait for a down slot in cluster ${CLUSTER}`),
            ),
          ).toBe(true);
          // Nothing left held: no host lock, no down slot.
          const lock = journal.fleetLock();
          expect((await lock.listHostLocks()).filter((l) => l.runId === runId)).toEqual([]);
          expect((await lock.listDownSlots()).filter((s) => s.runId === runId)).toEqual([]);
        } finally {
          journal.close();
        }

        // On the hosts: the canary runs with its NIC on vfio-pci; both batch hosts are back byte for byte, the one
        // stopped before its reboot never rebooted and has no one-shot left armed, the other booted twice.
        const driver = async (h: string) =>
          (await onHost(lab, h, `basename "$(readlink /sys/bus/pci/devices/${NIC}/driver)"`)).trim();
        expect(await driver(canary)).toBe('vfio-pci');
        for (const h of [x, y]) {
          expect(await onHost(lab, h, FILES_HASH)).toBe(before[h]!.files);
          expect(await driver(h)).toBe('e1000e');
        }
        expect(await onHost(lab, x, 'grub-editenv list')).not.toMatch(/next_entry=./);
        if (stoppedBeforeBoot) expect(await lab.bootId(x)).toBe(before[x]!.boot);
        else console.warn(`rollout kill -9 at three points: ${x} was killed after its reboot was armed and saved`);
        expect(await lab.bootId(y)).not.toBe(before[y]!.boot);
      },
    ));
});
