/**
 * When the change does not stand, on the lab VMs: four scenarios side by side, each on hosts of its own.
 *   - verification failure: the canary binds its NIC to vfio-pci, but `no-vfio-after-boot` gives it back to e1000e
 *     at boot: verification fails, the canary is rolled back and verifies against its old snapshot, the batch host
 *     is never touched.
 *   - hung reboot: `hang-once` makes the trial reboot hang; at the boot timeout the host is power-reset through QMP,
 *     the pending one-shot boots, and it verifies on its new state.
 *   - a kernel that never comes up: `kernel-update.yml` onto the lab's bad kernel (no root device): the trial panics
 *     (panic=10) and the host comes back by itself on the known-good entry (or is reset at the boot timeout); it is
 *     rolled back and verified, the run stops, the batch host is never rebooted.
 *   - kill -9: the controller is killed during the trial reboot; `rollgate resume RUN` finds the host on its trial
 *     boot and completes; `rollgate show RUN` shows every step.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Claim, ClaimRequest } from './lab-claims.js';
import { ensureLab, type Lab } from './lab-harness.js';
import {
  cli,
  finishedOf,
  storyOf,
  FILES_HASH,
  GRUBENV,
  onHost,
  playbookFile,
  runIdOf,
  show,
  reportDom,
  VFIO_PLAY,
} from './rollout-support.js';
import type { RollgateEvent } from '../../src/events/events.js';

let lab: Lab;

const ARG_PLAY = `- name: Add a marker argument
  hosts: all
  become: true
  tasks:
    - kernel_args: { present: [rollgate.e2e=resume] }
    - reboot: {}
    - verify: { cmdline_present: [rollgate.e2e=resume] }
`;

const verification = (events: RollgateEvent[], host: string, against: 'candidate' | 'known_good') =>
  events.find((e) => e.type === 'rollout.verification' && e.host === host && e.against === against) as
    Extract<RollgateEvent, { type: 'rollout.verification' }> | undefined;
const elapsed = (t: number) => `${((Date.now() - t) / 1000).toFixed(0)} s`;

beforeAll(async () => {
  lab = await ensureLab();
});

/** Run a scenario on claimed hosts, releasing them (dirty) whatever happens. */
async function onClaimed(req: ClaimRequest, fn: (hosts: string[]) => Promise<void>): Promise<void> {
  const claim: Claim = await lab.claim(req);
  try {
    await fn(claim.hosts);
  } finally {
    claim.release();
  }
}

describe.concurrent('rollouts that do not stand, on lab VMs', () => {
  it('verification failure rolls the canary back and leaves the batch host untouched', (t) =>
    onClaimed(
      { skip: t.skip, sameKind: 2, label: 'rollout-faults verification failure', estimateMin: 16, priority: 2 },
      async ([c, u]) => {
        const [canary, other] = [c!, u!];
        const t = Date.now();
        const untouched = {
          hash: await onHost(lab, other, FILES_HASH),
          env: await onHost(lab, other, GRUBENV),
          boot: await lab.bootId(other),
        };
        const files = await onHost(lab, canary, FILES_HASH);
        const driver = await onHost(lab, canary, 'basename "$(readlink /sys/bus/pci/devices/0000:01:00.0/driver)"');
        await lab.arm(canary, 'no-vfio-after-boot');
        const vfio = cli([
          'rollout',
          playbookFile(`vfio-nic-${canary}.yml`, VFIO_PLAY),
          '-i',
          lab.inventoryFile,
          '--limit',
          `${canary},${other}`,
          '--boot-timeout',
          '1200',
        ]);
        const a = await vfio.done;
        console.log(`rollout-faults verification failure: ${elapsed(t)}`);

        // The trial booted, the NIC stayed on e1000e, verification failed; rolled back and verified as before.
        expect(finishedOf(a.events), storyOf(a.events, vfio.stderr())).toEqual({ [canary]: 'rolled_back' });
        expect(a.code).toBe(3);
        const failed = verification(a.events, canary, 'candidate');
        expect(failed?.ok).toBe(false);
        expect(failed?.checks.find((x) => x.name.startsWith('driver 0000:01:00.0'))).toMatchObject({
          ok: false,
          expected: 'vfio-pci',
          actual: 'e1000e',
        });
        expect(verification(a.events, canary, 'known_good')?.ok).toBe(true);
        expect(a.events.find((e) => e.type === 'rollout.stopped')).toMatchObject({
          reason: 'canary_failed',
          untouched: [other],
        });
        expect(await onHost(lab, canary, FILES_HASH)).toBe(files);
        expect(await onHost(lab, canary, 'basename "$(readlink /sys/bus/pci/devices/0000:01:00.0/driver)"')).toBe(
          driver,
        );
        expect(await onHost(lab, canary, GRUBENV)).toMatch(
          /^saved_entry=gnulinux-advanced-[0-9a-f-]+>gnulinux-[^>\s]+-advanced-/,
        );
        expect({
          hash: await onHost(lab, other, FILES_HASH),
          env: await onHost(lab, other, GRUBENV),
          boot: await lab.bootId(other),
        }).toEqual(untouched);
        // The report of this run as a person sees it in a browser: the canary's lane rolled back, with its phases,
        // and the failed check of the NIC's driver.
        const dom = await reportDom(runIdOf(a.events));
        expect(dom).toContain(`<g class="lane" data-host="${canary}" data-outcome="rolled_back">`);
        for (const phase of ['snapshot', 'change', 'trial_boot', 'verification', 'rollback'])
          expect(dom).toContain(`data-phase="${phase}"`);
        expect(dom).toMatch(/<tr class="check failed"><td>driver 0000:01:00\.0[^<]*<\/td>/);
      },
    ));

  it('a hung reboot is power-reset at the boot timeout and the trial verifies', (t) =>
    onClaimed(
      { skip: t.skip, intel: 1, label: 'rollout-faults hung reboot', estimateMin: 22, priority: 2 },
      async ([h]) => {
        const host = h!;
        const t = Date.now();
        await lab.arm(host, 'hang-once');
        const hang = cli([
          'rollout',
          'playbooks/enable-iommu-passthrough.yml',
          '-i',
          lab.inventoryFile,
          '--limit',
          host,
          '--boot-timeout',
          '420',
        ]);
        const b = await hang.done;
        console.log(`rollout-faults hung reboot: ${elapsed(t)}`);
        // The reboot hung, QMP reset at the boot timeout, the pending one-shot booted, verified on the new state.
        expect(finishedOf(b.events), storyOf(b.events, hang.stderr())).toEqual({ [host]: 'changed' });
        expect(b.code).toBe(0);
        expect(b.events.find((e) => e.type === 'rollout.rollback' && e.host === host)).toMatchObject({
          action: 'power_reset',
        });
        expect(verification(b.events, host, 'candidate')?.ok).toBe(true);
        expect(await onHost(lab, host, 'cat /proc/cmdline')).toMatch(/ iommu=pt /);
      },
    ));

  it('a kernel that never comes up lands back on the known-good entry; the batch host is never rebooted', (t) =>
    onClaimed(
      { skip: t.skip, sameKind: 2, label: 'rollout-faults bad kernel', estimateMin: 17, priority: 2 },
      async ([c, u]) => {
        const [canary, other] = [c!, u!];
        const t = Date.now();
        const before = { hash: await onHost(lab, other, FILES_HASH), boot: await lab.bootId(other) };
        const files = await onHost(lab, canary, FILES_HASH);
        const kernel = await onHost(lab, canary, 'uname -r');
        const bad = cli([
          'rollout',
          'playbooks/kernel-update.yml',
          '-i',
          lab.inventoryFile,
          '--limit',
          `${canary},${other}`,
          '-e',
          'target_kernel=6.1.0-99-amd64',
          '--boot-timeout',
          '900',
        ]);
        const a = await bad.done;
        console.log(`rollout-faults bad kernel: ${elapsed(t)}`);
        // The bad kernel's trial never came up; back on the known-good entry, rolled back, verified, run stopped.
        expect(finishedOf(a.events), storyOf(a.events, bad.stderr())).toEqual({ [canary]: 'rolled_back' });
        expect(a.code).toBe(3);
        expect(
          a.events.some(
            (e) =>
              e.type === 'rollout.host_step' && e.host === canary && e.step === 'trial boot' && e.status === 'failed',
          ),
        ).toBe(true);
        expect(verification(a.events, canary, 'known_good')?.ok).toBe(true);
        expect(await onHost(lab, canary, 'uname -r')).toBe(kernel);
        expect(
          await onHost(lab, canary, "dpkg-query -W -f='${Status}' linux-image-6.1.0-99-amd64 2>/dev/null || true"),
        ).not.toMatch(/install ok installed/);
        expect(await onHost(lab, canary, FILES_HASH)).toBe(files);
        expect({ hash: await onHost(lab, other, FILES_HASH), boot: await lab.bootId(other) }).toEqual(before);
      },
    ));

  it('a controller killed (kill -9) during the trial reboot is resumed: the host is found on its trial boot and committed', (t) =>
    onClaimed(
      { skip: t.skip, any: 1, label: 'rollout-faults kill -9 + resume', estimateMin: 12, priority: 2 },
      async ([h]) => {
        const host = h!;
        const t = Date.now();
        const killed = cli([
          'rollout',
          playbookFile(`marker-arg-${host}.yml`, ARG_PLAY),
          '-i',
          lab.inventoryFile,
          '--limit',
          host,
          '--boot-timeout',
          '1200',
        ]);
        await killed.until(
          (e) =>
            e.type === 'rollout.host_step' &&
            e.host === host &&
            e.step.startsWith('reboot (') &&
            e.status === 'started',
        );
        await new Promise((r) => setTimeout(r, 5000));
        killed.child.kill('SIGKILL');
        const k = await killed.done;
        expect(k.signal).toBe('SIGKILL');
        const runId = runIdOf(k.events);
        const resumed = cli(['resume', runId]);
        const r = await resumed.done;
        console.log(`rollout-faults kill -9 + resume: ${elapsed(t)}`);
        // Resumed after kill -9 mid-reboot, found on its trial boot, verified and committed.
        expect(finishedOf(r.events), storyOf([...k.events, ...r.events], resumed.stderr())).toEqual({
          [host]: 'changed',
        });
        expect(r.code).toBe(0);
        expect(await onHost(lab, host, 'cat /proc/cmdline')).toMatch(/ rollgate\.e2e=resume /);
        const timeline = await show(runId, host);
        for (const step of [
          'freeze the known-good boot entry',
          'task "kernel_args": changed',
          'arm the trial boot: ok',
          'reboot (',
          'verification against the pre-change snapshot and the play: passed',
          `${host}: changed`,
        ]) {
          expect(timeline).toContain(step);
        }
      },
    ));
});
