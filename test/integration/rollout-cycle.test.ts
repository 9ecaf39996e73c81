/**
 * A whole rollout cycle over real sshd hosts whose boot is a test double (test/fixtures/trial-boot/fake-boot: GRUB's
 * one-shot/saved logic over the throwaway root, a new boot_id, /proc/cmdline from the chosen entry). The snapshots
 * are the real machine's, which no fake boot changes: a play whose expectations that machine cannot show fails
 * verification and is rolled back; one with no visible expectation verifies and commits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import type { RollgateEvent } from '../../src/events/events.js';
import { hashTree, removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { type defaultRolloutSettings } from '../../src/strategy/settings.js';
import { useRealGrubTools } from './support/grub-root.js';
import { finishedHosts, sshdRollout } from './support/rollout-sshd.js';
import { buildRoot, TEST_KERNEL } from './support/fake-root.js';

let fleet: SshdFleet;
const roots: string[] = [];

function root(grubDefault?: string): string {
  const r = tempRoot('cycle');
  roots.push(r);
  buildRoot(r, 'debian');
  useRealGrubTools(r, { grubenv: 'created', ...(grubDefault ? { grubDefault } : {}) });
  return r;
}

const rollout = (play: string, rs: string[], extra: Partial<typeof defaultRolloutSettings> = {}) =>
  sshdRollout(fleet, play, rs, extra);

const grubenv = (r: string) =>
  execFileSync('grub-editenv', [join(r, 'boot/grub/grubenv'), 'list'], { encoding: 'utf8' });
const finished = finishedHosts;

beforeAll(async () => {
  fleet = await startFleet(2);
});
afterAll(async () => {
  await fleet?.stop();
  for (const r of roots) {
    removeRoot(r);
    rmSync(`${r}-inventory.json`, { force: true });
  }
});

describe('a rollout cycle with trial boots on real sshd hosts', () => {
  it('changes the canary, boots it once on the candidate, verifies and commits, then the batch', async () => {
    const rs = [root(), root()];
    const play = `- hosts: all
  become: true
  tasks:
    - name: keep nouveau off
      driver_blacklist: { drivers: [nouveau] }
    - name: boot it
      reboot: { reason: test }
    - name: what the boot must show
      verify: { no_new_dma_faults: true }
`;
    const { out, events, journal, runId } = await rollout(play, rs);
    expect(
      finished(events),
      JSON.stringify(events.filter((e) => e.type === 'rollout.host_finished' || e.type === 'rollout.verification')),
    ).toEqual([
      [fleet.hosts[0]!.name, 'changed'],
      [fleet.hosts[1]!.name, 'changed'],
    ]);
    expect(out.result).toBe('succeeded');
    expect(events.filter((e) => e.type === 'rollout.batch_started').map((e) => [e.phase, e.hosts])).toEqual([
      ['canary', [fleet.hosts[0]!.name]],
      ['batch', [fleet.hosts[1]!.name]],
    ]);
    for (const r of rs) {
      // The trial ran (panic=N on its cmdline), the candidate is the default now, rollgate's entries are gone.
      expect(readFileSync(join(r, 'proc/cmdline'), 'utf8')).toMatch(/ panic=10\n$/);
      expect(grubenv(r)).toBe(`saved_entry=gnulinux-advanced-0000-test>gnulinux-${TEST_KERNEL}-advanced-0000-test\n`);
      expect(existsSync(join(r, 'boot/grub/rollgate.cfg'))).toBe(false);
      expect(readFileSync(join(r, 'boot/grub/grub.cfg'), 'utf8')).not.toContain('rollgate');
      expect(
        execFileSync('grep', ['-rl', 'blacklist nouveau', join(r, 'etc/modprobe.d')], { encoding: 'utf8' }),
      ).not.toBe('');
    }
    const v = events.find((e) => e.type === 'rollout.verification');
    expect(v).toMatchObject({ against: 'candidate', ok: true });
    expect(journal.listSteps(runId, fleet.hosts[0]!.name).map((s) => [s.module, s.status])).toEqual([
      ['rollout.trial_boot', 'applied'],
      ['driver_blacklist', 'applied'],
      ['reboot', 'applied'],
      ['verify', 'ok'],
    ]);
    journal.close();
  });

  it('rolls the canary back when verification fails, back on the known-good entry, and leaves the batch untouched', async () => {
    const rs = [root(), root()];
    const before = rs.map((r) => hashTree(join(r, 'etc')));
    const play = `- hosts: all
  become: true
  tasks:
    - kernel_args: { present: [rollgate.cycle=1] }
    - reboot: {}
`;
    const { out, events, journal, runId } = await rollout(play, rs);
    expect(out.result, JSON.stringify(events.filter((e) => e.type.startsWith('rollout.')).slice(-12), null, 1)).toBe(
      'rolled_back',
    );
    expect(finished(events)).toEqual([[fleet.hosts[0]!.name, 'rolled_back']]);
    const [candidate, knownGood] = events.filter((e) => e.type === 'rollout.verification') as Array<
      Extract<RollgateEvent, { type: 'rollout.verification' }>
    >;
    expect(candidate).toMatchObject({ against: 'candidate', ok: false });
    expect(candidate!.checks.find((c) => c.name === 'cmdline')).toMatchObject({
      ok: false,
      actual: expect.stringContaining('missing: rollgate.cycle=1'),
    });
    expect(knownGood).toMatchObject({ against: 'known_good', ok: true });
    expect(events.find((e) => e.type === 'rollout.stopped')).toMatchObject({
      reason: 'canary_failed',
      untouched: [fleet.hosts[1]!.name],
    });
    // Two boots: the trial (panic=10), then the known-good entry (the frozen copy) after the undo.
    expect(readFileSync(join(rs[0]!, 'proc/cmdline'), 'utf8')).toMatch(/^BOOT_IMAGE=\/boot\/rollgate\/vmlinuz-/);
    expect(rs.map((r) => hashTree(join(r, 'etc')))).toEqual(before);
    expect(grubenv(rs[0]!)).toBe(
      `saved_entry=gnulinux-advanced-0000-test>gnulinux-${TEST_KERNEL}-advanced-0000-test\n`,
    );
    expect(journal.undoableSteps(runId, fleet.hosts[0]!.name).filter((s) => s.undo.files.length > 0)).toEqual([]);
    journal.close();
  });

  const GRUB_DEFAULT = (r: string) => /^GRUB_DEFAULT=.*$/m.exec(readFileSync(join(r, 'etc/default/grub'), 'utf8'))?.[0];

  it('prepare_boot: a stock GRUB_DEFAULT=0 host is made ready as part of the run, and stays so once committed', async () => {
    const rs = [root('0')];
    const play = `- hosts: all
  become: true
  tasks:
    - name: keep nouveau off
      driver_blacklist: { drivers: [nouveau] }
    - reboot: {}
`;
    const { out, events, journal, runId } = await rollout(play, rs, { prepareBoot: true });
    expect(out.result, JSON.stringify(events.filter((e) => e.type === 'rollout.host_finished'))).toBe('succeeded');
    expect(finished(events)).toEqual([[fleet.hosts[0]!.name, 'changed']]);
    expect(GRUB_DEFAULT(rs[0]!)).toBe('GRUB_DEFAULT=saved');
    expect(readFileSync(join(rs[0]!, 'boot/grub/grub.cfg'), 'utf8')).toContain('set default="${saved_entry}"');
    expect(readFileSync(join(rs[0]!, 'proc/cmdline'), 'utf8')).toMatch(/ panic=10\n$/);
    expect(journal.listSteps(runId, fleet.hosts[0]!.name).map((s) => [s.module, s.status, !!s.undoneAt])).toEqual([
      ['boot_default', 'applied', false],
      ['rollout.trial_boot', 'applied', true],
      ['driver_blacklist', 'applied', false],
      ['reboot', 'applied', false],
    ]);
    journal.close();
  });

  it('prepare_boot: a rollback boots the frozen known-good entry first, then takes GRUB_DEFAULT=0 back', async () => {
    const rs = [root('0')];
    const before = hashTree(join(rs[0]!, 'etc'));
    const play = `- hosts: all
  become: true
  tasks:
    - kernel_args: { present: [rollgate.cycle=2] }
    - reboot: {}
`;
    const { out, events, journal, runId } = await rollout(play, rs, { prepareBoot: true });
    expect(out.result).toBe('rolled_back');
    expect(finished(events)).toEqual([[fleet.hosts[0]!.name, 'rolled_back']]);
    // The return boot went to the frozen copy: GRUB_DEFAULT was still saved then (with 0, GRUB boots entry 0).
    const story = JSON.stringify(
      events
        .filter((e) => e.type === 'rollout.host_step' || e.type === 'rollout.rollback')
        .map((e) => [e.type, 'step' in e ? e.step : '', 'status' in e ? e.status : '', 'reason' in e ? e.reason : '']),
    );
    expect(readFileSync(join(rs[0]!, 'proc/cmdline'), 'utf8'), story).toMatch(/^BOOT_IMAGE=\/boot\/rollgate\/vmlinuz-/);
    expect(events.find((e) => e.type === 'rollout.verification' && e.against === 'known_good')).toMatchObject({
      ok: true,
    });
    // Then the preparation was undone last: the host's files as before the run, grub.cfg back to default 0.
    expect(GRUB_DEFAULT(rs[0]!)).toBe('GRUB_DEFAULT=0');
    expect(hashTree(join(rs[0]!, 'etc'))).toBe(before);
    expect(readFileSync(join(rs[0]!, 'boot/grub/grub.cfg'), 'utf8')).toContain('set default="0"');
    expect(journal.undoableSteps(runId, fleet.hosts[0]!.name).filter((s) => s.undo.files.length > 0)).toEqual([]);
    journal.close();
  });
});
