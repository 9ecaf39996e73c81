/**
 * When the change does not stand, on the lab VMs (behind ROLLGATE_E2E_FULL=1: about 30 minutes of reboots, more than
 * CI's budget leaves). Two stages, each running two rollouts at once on disjoint hosts so their reboots overlap:
 *   1. lab1+lab2: the canary lab1 binds its NIC to vfio-pci, but `no-vfio-after-boot` gives it back to e1000e at boot:
 *      verification fails, lab1 is rolled back and verifies against its old snapshot, lab2 is never touched.
 *      lab3 (alone): `hang-once` makes its trial reboot hang; at the boot timeout it is power-reset through QMP, the
 *      pending one-shot boots, and it verifies on its new state.
 *   2. lab1+lab2: `kernel-update.yml` onto the lab's bad kernel (no root device): the trial panics (panic=10) and
 *      the host comes back by itself on the known-good entry (or is reset at the boot timeout); it is rolled back
 *      and verified, the run stops, lab2 is never rebooted.
 *      lab3: the controller is killed (kill -9) during the trial reboot; `rollgate resume RUN` finds the host on
 *      its trial boot and completes; `rollgate show RUN` shows every step.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLab, type Lab } from './lab-harness.js';
import { cli, finishedOf, FILES_HASH, GRUBENV, onHost, playbookFile, runIdOf, show } from './rollout-support.js';
import type { RollgateEvent } from '../../src/events/events.js';

const FULL = process.env.ROLLGATE_E2E_FULL === '1';
let lab: Lab;

const VFIO_PLAY = `- name: Bind the NIC to vfio-pci
  hosts: all
  become: true
  tasks:
    - vfio_bind: { ids: ["8086:10d3"] }
    - reboot: { reason: vfio-pci for the NIC }
`;
const ARG_PLAY = `- name: Add a marker argument
  hosts: all
  become: true
  tasks:
    - kernel_args: { present: [rollgate.e2e=resume] }
    - reboot: {}
    - verify: { cmdline_present: [rollgate.e2e=resume] }
`;

const verification = (events: RollgateEvent[], host: string, against: 'candidate' | 'known_good') =>
  events.find((e) => e.type === 'rollout.verification' && e.host === host && e.against === against) as Extract<RollgateEvent, { type: 'rollout.verification' }> | undefined;
const elapsed = (t: number) => `${((Date.now() - t) / 1000).toFixed(0)} s`;

beforeAll(async () => {
  if (FULL) lab = await ensureLab({ hosts: 3, profile: 'intel', pristine: true });
});

describe.runIf(FULL)('rollouts that do not stand, on lab VMs', () => {
  it('stage 1: verification failure rolls the canary back (others untouched); a hung reboot is power-reset and verified', async () => {
    const t = Date.now();
    for (const h of lab.hosts) lab.markDirty(h);
    const untouched = { hash: await onHost(lab, 'lab2', FILES_HASH), env: await onHost(lab, 'lab2', GRUBENV), boot: await lab.bootId('lab2') };
    const lab1Files = await onHost(lab, 'lab1', FILES_HASH);
    const lab1Driver = await onHost(lab, 'lab1', 'basename "$(readlink /sys/bus/pci/devices/0000:01:00.0/driver)"');
    await lab.arm('lab1', 'no-vfio-after-boot');
    await lab.arm('lab3', 'hang-once');
    const vfio = cli(['rollout', playbookFile('vfio-nic.yml', VFIO_PLAY), '-i', lab.inventoryFile, '--limit', 'lab1,lab2', '--boot-timeout', '1200']);
    const hang = cli(['rollout', 'playbooks/enable-iommu-passthrough.yml', '-i', lab.inventoryFile, '--limit', 'lab3', '--boot-timeout', '420']);
    const [a, b] = await Promise.all([vfio.done, hang.done]);
    console.log(`rollout-faults stage 1: ${elapsed(t)}`);

    // lab1: the trial booted, the NIC stayed on e1000e, verification failed; rolled back and verified as before.
    expect(finishedOf(a.events), vfio.stderr()).toEqual({ lab1: 'rolled_back' });
    expect(a.code).toBe(3);
    const failed = verification(a.events, 'lab1', 'candidate');
    expect(failed?.ok).toBe(false);
    expect(failed?.checks.find((c) => c.name.startsWith('driver 0000:01:00.0'))).toMatchObject({ ok: false, expected: 'vfio-pci', actual: 'e1000e' });
    expect(verification(a.events, 'lab1', 'known_good')?.ok).toBe(true);
    expect(a.events.find((e) => e.type === 'rollout.stopped')).toMatchObject({ reason: 'canary_failed', untouched: ['lab2'] });
    expect(await onHost(lab, 'lab1', FILES_HASH)).toBe(lab1Files);
    expect(await onHost(lab, 'lab1', 'basename "$(readlink /sys/bus/pci/devices/0000:01:00.0/driver)"')).toBe(lab1Driver);
    expect(await onHost(lab, 'lab1', GRUBENV)).toMatch(/^saved_entry=gnulinux-simple-/);
    expect({ hash: await onHost(lab, 'lab2', FILES_HASH), env: await onHost(lab, 'lab2', GRUBENV), boot: await lab.bootId('lab2') }).toEqual(untouched);

    // lab3: the reboot hung, QMP reset at the boot timeout, the pending one-shot booted, verified on the new state.
    expect(finishedOf(b.events), hang.stderr()).toEqual({ lab3: 'changed' });
    expect(b.code).toBe(0);
    expect(b.events.find((e) => e.type === 'rollout.rollback' && e.host === 'lab3')).toMatchObject({ action: 'power_reset' });
    expect(verification(b.events, 'lab3', 'candidate')?.ok).toBe(true);
    expect(await onHost(lab, 'lab3', 'cat /proc/cmdline')).toMatch(/ iommu=pt /);
    await lab.clear('lab1');
  });

  it('stage 2: a kernel that never comes up lands back on the known-good entry; a killed controller is resumed', async () => {
    const t = Date.now();
    const lab2 = { hash: await onHost(lab, 'lab2', FILES_HASH), boot: await lab.bootId('lab2') };
    const lab1Files = await onHost(lab, 'lab1', FILES_HASH);
    const lab1Kernel = await onHost(lab, 'lab1', 'uname -r');
    const bad = cli(['rollout', 'playbooks/kernel-update.yml', '-i', lab.inventoryFile, '--limit', 'lab1,lab2', '-e', 'target_kernel=6.1.0-99-amd64', '--boot-timeout', '900']);
    const killed = cli(['rollout', playbookFile('marker-arg.yml', ARG_PLAY), '-i', lab.inventoryFile, '--limit', 'lab3', '--boot-timeout', '1200']);
    await killed.until((e) => e.type === 'rollout.host_step' && e.host === 'lab3' && e.step.startsWith('reboot (') && e.status === 'started');
    await new Promise((r) => setTimeout(r, 5000));
    killed.child.kill('SIGKILL');
    const k = await killed.done;
    expect(k.signal).toBe('SIGKILL');
    const runId = runIdOf(k.events);
    const resumed = cli(['resume', runId]);
    const [a, r] = await Promise.all([bad.done, resumed.done]);
    console.log(`rollout-faults stage 2: ${elapsed(t)}`);

    // lab1: the bad kernel's trial never came up; back on the known-good entry, rolled back, verified, run stopped.
    expect(finishedOf(a.events), bad.stderr()).toEqual({ lab1: 'rolled_back' });
    expect(a.code).toBe(3);
    expect(a.events.some((e) => e.type === 'rollout.host_step' && e.host === 'lab1' && e.step === 'trial boot' && e.status === 'failed')).toBe(true);
    expect(verification(a.events, 'lab1', 'known_good')?.ok).toBe(true);
    expect(await onHost(lab, 'lab1', 'uname -r')).toBe(lab1Kernel);
    expect(await onHost(lab, 'lab1', "dpkg-query -W -f='${Status}' linux-image-6.1.0-99-amd64 2>/dev/null || true")).not.toMatch(/install ok installed/);
    expect(await onHost(lab, 'lab1', FILES_HASH)).toBe(lab1Files);
    expect({ hash: await onHost(lab, 'lab2', FILES_HASH), boot: await lab.bootId('lab2') }).toEqual(lab2);

    // lab3: resumed after kill -9 mid-reboot, found on its trial boot, verified and committed.
    expect(finishedOf(r.events), resumed.stderr()).toEqual({ lab3: 'changed' });
    expect(r.code).toBe(0);
    expect(await onHost(lab, 'lab3', 'cat /proc/cmdline')).toMatch(/ rollgate\.e2e=resume /);
    const timeline = await show(runId, 'lab3');
    for (const step of ['freeze the known-good boot entry', 'task "kernel_args": changed', 'arm the trial boot: ok', 'reboot (', 'verification against the pre-change snapshot and the play: passed', 'lab3: changed']) {
      expect(timeline).toContain(step);
    }
  });
});
