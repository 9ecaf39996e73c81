/**
 * The rollout engine with the GRUB + BLS and the systemd-boot trial-boot drivers, chosen by the registry from what
 * each root has, over real sshd hosts whose boot is a test double (test/fixtures/trial-boot/fake-boot-bls: GRUB's
 * next_entry/saved_entry over BLS entries with the real grub-editenv; fake-boot-sdboot: systemd-boot's one-shot,
 * default and boot counting over efivarfs files). grubby and bootctl are doubles. The snapshots are the real
 * machine's: a play with no visible expectation commits, a kernel_args change cannot show and is rolled back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import type { RollgateEvent } from '../../src/events/events.js';
import { removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { finishedHosts, sshdRollout } from './support/rollout-sshd.js';
import { buildRoot } from './support/fake-root.js';
import { BLS_RUNNING, blsId, grubenvOf, useBlsFixtures } from './support/bls-root.js';
import { SD_ENTRIES, SD_RUNNING, efiVar, sdId, useSdBootFixtures } from './support/sdboot-root.js';

const FIXTURES = new URL('../fixtures/trial-boot/', import.meta.url).pathname;
let fleet: SshdFleet;
const roots: string[] = [];

function blsRoot(): string {
  const r = tempRoot('stack-bls');
  roots.push(r);
  buildRoot(r, 'fedora-bls');
  useBlsFixtures(r);
  return r;
}
function sdbootRoot(): string {
  const r = tempRoot('stack-sdboot');
  roots.push(r);
  buildRoot(r, 'systemd-boot');
  useSdBootFixtures(r);
  return r;
}
const bootWith = (rs: string[]) => (i: number) => ({
  rollgate_reboot_command: `${FIXTURES}${rs[i]!.includes('stack-bls') ? 'fake-boot-bls' : 'fake-boot-sdboot'} ${rs[i]}`,
});
const steps = (events: RollgateEvent[], host: string) =>
  events.flatMap((e) => (e.type === 'rollout.host_step' && e.host === host ? [`${e.step}: ${e.status}`] : []));

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

describe('a rollout on GRUB + BLS and systemd-boot hosts', () => {
  it('boots each once on its trial entry, verifies and commits; prepare_boot has nothing to do there', async () => {
    const rs = [blsRoot(), sdbootRoot()];
    const play = `- hosts: all
  become: true
  tasks:
    - name: keep nouveau off
      driver_blacklist: { drivers: [nouveau] }
    - reboot: {}
`;
    const { out, events } = await sshdRollout(fleet, play, rs, { prepareBoot: true }, bootWith(rs));
    expect(out.result, JSON.stringify(events.filter((e) => e.type.startsWith('rollout.')).slice(-8), null, 1)).toBe(
      'succeeded',
    );
    expect(finishedHosts(events)).toEqual([
      [fleet.hosts[0]!.name, 'changed'],
      [fleet.hosts[1]!.name, 'changed'],
    ]);
    expect(steps(events, fleet.hosts[0]!.name)).toContain('prepare the boot loader (boot_default): ok');
    const [bls, sd] = rs as [string, string];
    // The trial booted (panic=10), then the candidate's own entry became the default and rollgate's went.
    expect(readFileSync(join(bls, 'proc/cmdline'), 'utf8')).toMatch(/^BOOT_IMAGE=\(hd0,gpt2\)\/vmlinuz-.* panic=10\n$/);
    expect(grubenvOf(bls)).toBe(`saved_entry=${blsId(BLS_RUNNING)}\n`);
    expect(readdirSync(join(bls, 'boot/loader/entries')).filter((f) => f.startsWith('rollgate'))).toEqual([]);
    expect(existsSync(join(bls, 'boot/rollgate'))).toBe(false);
    expect(readFileSync(join(sd, 'proc/cmdline'), 'utf8')).toMatch(/ panic=10\n$/);
    expect(efiVar(sd, 'LoaderEntryDefault')).toBe(sdId(SD_RUNNING));
    expect(efiVar(sd, 'LoaderEntrySelected')).toBe('rollgate-trial.conf');
    expect(readdirSync(join(sd, SD_ENTRIES)).filter((f) => f.startsWith('rollgate'))).toEqual([]);
    expect(existsSync(join(sd, 'boot/efi/rollgate'))).toBe(false);
  });

  it("rolls back a change the trial cannot show: undone, back on the frozen entry, the kernel's own entry the default again", async () => {
    const play = `- hosts: all
  become: true
  tasks:
    - kernel_args: { present: [rollgate.stacks=1] }
    - reboot: {}
`;
    // One rollout per stack: a failed canary stops the run before any other host.
    const bls = blsRoot();
    const a = await sshdRollout(fleet, play, [bls], {}, bootWith([bls]));
    expect(a.out.result, steps(a.events, fleet.hosts[0]!.name).join('\n')).toBe('rolled_back');
    expect(readFileSync(join(bls, 'proc/cmdline'), 'utf8')).toMatch(/^BOOT_IMAGE=\(hd0,gpt2\)\/rollgate\/vmlinuz-/);
    expect(grubenvOf(bls)).toBe(`saved_entry=${blsId(BLS_RUNNING)}\n`);
    expect(readFileSync(join(bls, 'boot/loader/entries', `${blsId(BLS_RUNNING)}.conf`), 'utf8')).not.toContain(
      'rollgate.stacks',
    );
    expect(readdirSync(join(bls, 'boot/loader/entries')).filter((f) => f.startsWith('rollgate'))).toEqual([]);

    const sd = sdbootRoot();
    const b = await sshdRollout(fleet, play, [sd], {}, bootWith([sd]));
    expect(b.out.result, steps(b.events, fleet.hosts[0]!.name).join('\n')).toBe('rolled_back');
    expect(steps(b.events, fleet.hosts[0]!.name)).toContain('reboot (back to the known-good entry): ok');
    expect(efiVar(sd, 'LoaderEntrySelected')).toBe('rollgate-known-good.conf');
    expect(readFileSync(join(sd, 'proc/cmdline'), 'utf8')).not.toContain('panic=');
    expect(efiVar(sd, 'LoaderEntryDefault')).toBe(sdId(SD_RUNNING));
    expect(readdirSync(join(sd, SD_ENTRIES)).filter((f) => f.startsWith('rollgate'))).toEqual([]);
  });
});
