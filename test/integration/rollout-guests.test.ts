/**
 * A rollout on a hypervisor with running guests, through a real libvirtd and real QEMU guests
 * (support/libvirt-session.ts) on a real sshd host whose boot is a test double: without `rollout: guests:` the host
 * is not changed at all; with `shutdown` the guest goes down before the trial boot and runs again before the
 * post-boot snapshot, whose verification requires it; a failed verification rolls back and the guest runs again
 * on the rolled-back host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import type { RollgateEvent } from '../../src/events/events.js';
import { drainPolicyFrom } from '../../src/core/guest-policy.js';
import { hashTree, removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { useRealGrubTools } from './support/grub-root.js';
import { buildRoot } from './support/fake-root.js';
import { finishedHosts, sshdRollout } from './support/rollout-sshd.js';
import { startLibvirtSession, type LibvirtSession } from './support/libvirt-session.js';

let fleet: SshdFleet;
let lv: LibvirtSession;
/** The second host's libvirt, for live migration between the two. */
let lv2: LibvirtSession;
const roots: string[] = [];

function root(): string {
  const r = tempRoot('guests');
  roots.push(r);
  buildRoot(r, 'debian');
  useRealGrubTools(r, { grubenv: 'created' });
  return r;
}
const SHUTDOWN = { guests: drainPolicyFrom({ movable: 'shutdown', shutdown_timeout: 2, on_timeout: 'destroy' }) };
const said = (events: RollgateEvent[]) => events.flatMap((e) => (e.type === 'host.guests' ? [e.message] : []));
const verification = (events: RollgateEvent[], against: string) =>
  events.find((e) => e.type === 'rollout.verification' && e.against === against) as
    Extract<RollgateEvent, { type: 'rollout.verification' }> | undefined;

beforeAll(async () => {
  fleet = await startFleet(2);
  lv = await startLibvirtSession();
  lv2 = await startLibvirtSession();
  lv.startIdleGuest('web');
}, 120_000);
afterAll(async () => {
  lv?.stop();
  lv2?.stop();
  await fleet?.stop();
  for (const r of roots) {
    removeRoot(r);
    rmSync(`${r}-inventory.json`, { force: true });
  }
});

const PLAY = (extra = '') => `- hosts: all
  become: true
  tasks:
    - kernel_args: { present: [rollgate.guests=1] }
    - reboot: {}
${extra}`;

describe('a rollout on a host with running guests (real libvirtd)', () => {
  it('without rollout: guests, the host is refused and nothing on it changes', async () => {
    const r = root();
    const before = hashTree(join(r, 'etc'));
    const pid = lv.qemuPid('web');
    const { events } = await sshdRollout(fleet, PLAY(), [r], {}, { rollgate_libvirt_uri: lv.uri });
    expect(finishedHosts(events)).toEqual([[fleet.hosts[0]!.name, 'failed']]);
    expect(JSON.stringify(events.filter((e) => e.type === 'rollout.host_finished'))).toMatch(
      /1 running guest\(s\) a reboot would kill: web; nothing was changed\. Say how to drain them: the play's `rollout: guests: shutdown`/,
    );
    expect(hashTree(join(r, 'etc'))).toBe(before);
    expect(lv.qemuPid('web')).toBe(pid);
  });

  it('with guests: shutdown, the guest goes down for the trial boot and must run again to commit', async () => {
    const r = root();
    const pid = lv.qemuPid('web');
    const { events } = await sshdRollout(
      fleet,
      PLAY(),
      [r],
      { ...SHUTDOWN, verifyWanted: ['cmdline'] },
      { rollgate_libvirt_uri: lv.uri },
    );
    expect(
      finishedHosts(events),
      JSON.stringify(events.filter((e) => e.type.startsWith('rollout.')).slice(-8)),
    ).toEqual([[fleet.hosts[0]!.name, 'changed']]);
    expect(said(events)).toEqual([
      'shutting down guest web (up to 2 s)',
      'guest web did not shut down within 2 s: destroying it (on_timeout: destroy)',
      'starting guest web',
    ]);
    expect(verification(events, 'candidate')?.checks.find((c) => c.name === 'guest web')).toMatchObject({
      ok: true,
      expected: 'running',
      actual: expect.stringMatching(/^running/),
    });
    expect(lv.virsh('domstate', 'web').trim()).toBe('running');
    expect(lv.qemuPid('web')).not.toBe(pid);
  }, 120_000);

  it('a failed verification rolls back, shutting the guest down again for that reboot, and it runs again after', async () => {
    const r = root();
    const { events } = await sshdRollout(fleet, PLAY(), [r], SHUTDOWN, { rollgate_libvirt_uri: lv.uri });
    expect(finishedHosts(events)).toEqual([[fleet.hosts[0]!.name, 'rolled_back']]);
    expect(said(events)).toEqual([
      'shutting down guest web (up to 2 s)',
      'guest web did not shut down within 2 s: destroying it (on_timeout: destroy)',
      'starting guest web',
      'shutting down guest web (up to 2 s)',
      'guest web did not shut down within 2 s: destroying it (on_timeout: destroy)',
      'starting guest web',
    ]);
    expect(verification(events, 'known_good')?.checks.find((c) => c.name === 'guest web')).toMatchObject({ ok: true });
    expect(lv.virsh('domstate', 'web').trim()).toBe('running');
  }, 120_000);

  describe('live migration (movable: migrate) between the two hosts of one cluster', () => {
    const MIGRATE = (back: boolean) => ({
      guests: drainPolicyFrom({ movable: 'migrate', return: back }),
      verifyWanted: ['cmdline'],
    });
    const vars = (i: number) => ({
      rollgate_libvirt_uri: [lv, lv2][i]!.uri,
      rollgate_migrate_uri: [lv, lv2][i]!.uri,
      rollgate_cluster: 'rack1',
    });
    const names = (s: LibvirtSession) => s.virsh('list', '--name').split('\n').filter(Boolean);

    it('return: true moves the guest to the peer for the trial boot and back after the commit', async () => {
      const pid = lv.qemuPid('web');
      const { events } = await sshdRollout(fleet, PLAY(), [root(), root()], MIGRATE(true), vars);
      expect(
        finishedHosts(events),
        JSON.stringify(events.filter((e) => e.type === 'rollout.host_step').slice(-10)),
      ).toEqual([
        [fleet.hosts[0]!.name, 'changed'],
        [fleet.hosts[1]!.name, 'changed'],
      ]);
      expect(said(events)).toEqual([`migrating guest web to ${lv2.uri}`, `migrating guest web to ${lv.uri}`]);
      expect([names(lv), names(lv2)]).toEqual([['web'], []]);
      // The same QEMU process? No: a live migration starts a new one on the other side, which kept the guest running.
      expect(lv.qemuPid('web')).not.toBe(pid);
      expect(verification(events, 'candidate')?.checks.find((c) => c.name === 'guest web')).toMatchObject({ ok: true });
    }, 180_000);

    it('return: false leaves it on the peer, and the peer moves it on for its own turn', async () => {
      const { events } = await sshdRollout(fleet, PLAY(), [root(), root()], MIGRATE(false), vars);
      expect(finishedHosts(events)).toEqual([
        [fleet.hosts[0]!.name, 'changed'],
        [fleet.hosts[1]!.name, 'changed'],
      ]);
      expect(said(events)).toEqual([`migrating guest web to ${lv2.uri}`, `migrating guest web to ${lv.uri}`]);
      // The first host verified without it (away), the second moved it back to the first for its own boot.
      expect(verification(events, 'candidate')?.checks.some((c) => c.name === 'guest web')).toBe(false);
      expect([names(lv), names(lv2)]).toEqual([['web'], []]);
    }, 180_000);

    it('a peer that does not answer: the drain fails before anything is armed, every change is undone, the guest runs on', async () => {
      const broken = (i: number) => ({
        ...vars(i),
        rollgate_migrate_uri: 'qemu+unix:///system?socket=/nonexistent/libvirt-sock',
      });
      const r = root();
      const before = hashTree(r);
      const { events } = await sshdRollout(fleet, PLAY(), [r, root()], MIGRATE(true), broken);
      const story = JSON.stringify(
        events.filter((e) => e.type === 'rollout.host_step' || e.type === 'rollout.host_finished').slice(-12),
      );
      expect(finishedHosts(events), story).toEqual([[fleet.hosts[0]!.name, 'rolled_back']]);
      expect(hashTree(r), story).toBe(before);
      expect(names(lv)).toEqual(['web']);
    }, 180_000);

    it('without a peer in the cluster the guest cannot migrate and the host is refused', async () => {
      const { events } = await sshdRollout(fleet, PLAY(), [root()], MIGRATE(true), vars);
      expect(finishedHosts(events)).toEqual([[fleet.hosts[0]!.name, 'failed']]);
      const msg = events.find((e) => e.type === 'rollout.host_finished')!;
      expect(JSON.stringify(msg)).toContain(
        'web (cannot migrate: no other host of its rollgate_cluster outside its batch)',
      );
    });

    it('without a peer and no_peer: shutdown (the shipped playbooks), the guest is shut down for the boot and runs again', async () => {
      const policy = {
        guests: drainPolicyFrom({
          movable: 'migrate',
          no_peer: 'shutdown',
          return: true,
          shutdown_timeout: 2,
          on_timeout: 'destroy',
        }),
        verifyWanted: ['cmdline'],
      };
      const pid = lv.qemuPid('web');
      const { events } = await sshdRollout(fleet, PLAY(), [root()], policy, vars);
      expect(finishedHosts(events), JSON.stringify(said(events))).toEqual([[fleet.hosts[0]!.name, 'changed']]);
      expect(said(events).some((m) => m.startsWith('migrating'))).toBe(false);
      expect(said(events)).toContain('shutting down guest web (up to 2 s)');
      expect([names(lv), names(lv2)]).toEqual([['web'], []]);
      // Started again: a new QEMU process, not the one that ran before the boot.
      expect(lv.qemuPid('web')).not.toBe(pid);
      expect(verification(events, 'candidate')?.checks.find((c) => c.name === 'guest web')).toMatchObject({ ok: true });
    }, 180_000);
  });
});
