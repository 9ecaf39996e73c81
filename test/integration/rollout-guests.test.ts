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
  fleet = await startFleet(1);
  lv = await startLibvirtSession();
  lv.startIdleGuest('web');
}, 120_000);
afterAll(async () => {
  lv?.stop();
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
    const { out, events } = await sshdRollout(fleet, PLAY(), [r], {}, { rollgate_libvirt_uri: lv.uri });
    expect(finishedHosts(events)).toEqual([[fleet.hosts[0]!.name, 'failed']]);
    expect(out.hosts[0]?.message ?? JSON.stringify(events.filter((e) => e.type === 'rollout.host_finished'))).toMatch(
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
});
