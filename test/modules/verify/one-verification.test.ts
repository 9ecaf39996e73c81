/**
 * One verification: a play's `verify` task is judged the same under `rollgate run` (the module, over the snapshot
 * it takes) and under `rollgate rollout` (its options journaled, read back as expectations and checked after the
 * trial boot against the pre-change snapshot). Each case below gives both engines the same host before and after
 * and asserts they reach the same verdict; several used to disagree (a driver written `vfio_pci`, a bare
 * `cmdline_present` name, `iommu_enabled: false`, `vfio_in_initramfs: false`, `no_error_findings`).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { hostSnapshot, HEALTHY } from '../facts/host-fixture.js';
import { checkConditions, type VerifyArgs } from '../../../src/modules/verify/conditions.js';
import { verify } from '../../../src/modules/actions/verify.js';
import { noExpectations } from '../../../src/modules/expectations.js';
import { evaluateFindings } from '../../../src/modules/findings/evaluate.js';
import { desiredStateFrom } from '../../../src/modules/findings/desired.js';
import { verificationPassed, verifyBoot } from '../../../src/executor/rollout/verify.js';

const text = (n: string) => readFileSync(`${HEALTHY}/${n}.txt`, 'utf8');
const desired = desiredStateFrom('hv01', { passthrough_devices: ['8086:10d3'] }).desired;
const services = { pre: { ssh: 'active' as const }, post: { ssh: 'active' as const } };
const BOOT2 = '99999999-2222-4333-8444-555555555555\n';
type Sections = Parameters<typeof hostSnapshot>[1];

const noVfioInInitramfs = text('initramfs')
  .split('\n')
  .filter((l) => !l.includes('vfio'))
  .join('\n');
const nicOnE1000e = text('lspci').replace('Kernel driver in use: vfio-pci', 'Kernel driver in use: e1000e');
const cmdlineWithout = (word: string) => text('cmdline').replace(` ${word}`, '');

const cases: Array<{ name: string; args: VerifyArgs; pre?: Sections; post?: Sections; holds: boolean }> = [
  { name: 'a driver written with an underscore', args: { drivers: { '8086:10D3': 'vfio_pci' } }, holds: true },
  {
    name: 'a bare cmdline_present name matches any value of it',
    args: { cmdline_present: ['iommu'] },
    pre: { cmdline: cmdlineWithout('iommu=pt') },
    holds: true,
  },
  {
    name: 'a bare cmdline_absent name refuses any value of it',
    args: { cmdline_absent: ['iommu'] },
    holds: false,
  },
  {
    name: 'a cmdline_present word the boot does not show',
    args: { cmdline_present: ['rollgate.none=1'] },
    holds: false,
  },
  {
    name: 'a cmdline_absent word the change took away',
    args: { cmdline_absent: ['iommu=pt'] },
    post: { cmdline: cmdlineWithout('iommu=pt') },
    holds: true,
  },
  { name: 'iommu_enabled: false on a host with the IOMMU on', args: { iommu_enabled: false }, holds: false },
  { name: 'interrupt_remapping: false on a host with it on', args: { interrupt_remapping: false }, holds: false },
  { name: 'vfio_in_initramfs: false with vfio inside', args: { vfio_in_initramfs: false }, holds: false },
  {
    name: 'vfio_in_initramfs: true after the rebuild put it there',
    args: { vfio_in_initramfs: true },
    pre: { initramfs: noVfioInInitramfs },
    holds: true,
  },
  {
    name: 'no_error_findings with the passthrough NIC on its host driver',
    args: { no_error_findings: true },
    pre: { lspci: nicOnE1000e },
    post: { lspci: nicOnE1000e },
    holds: false,
  },
  { name: 'a kernel that is not the one running', args: { kernel: '6.1.0-99-amd64' }, holds: false },
  { name: 'the kernel that runs', args: { kernel: '6.1.0-50-amd64' }, holds: true },
  { name: 'a default domain that is not the one', args: { default_domain: 'translated' }, holds: false },
  {
    name: 'a fault the host had before the change, again after the boot',
    args: { no_new_dma_faults: true },
    pre: {
      dmesg:
        text('dmesg') +
        '[ 60.1] DMAR: [DMA Read NO_PASID] Request device [02:00.0] fault addr 0x7f3c0000 [fault reason 0x06] PTE Read access is not set\n',
    },
    post: {
      dmesg:
        text('dmesg') +
        '[  9.8] DMAR: [DMA Read NO_PASID] Request device [02:00.0] fault addr 0x6a000000 [fault reason 0x06] PTE Read access is not set\n',
    },
    holds: true,
  },
];

describe('one verification for run and rollout', () => {
  for (const c of cases)
    it(`${c.name}: ${c.holds ? 'holds' : 'fails'} in both`, () => {
      const pre = hostSnapshot(HEALTHY, c.pre ?? {});
      const post = hostSnapshot(HEALTHY, { boot_id: BOOT2, ...(c.post ?? {}) });
      // `rollgate run`: the module's conditions over the snapshot after the boot, the run's first as baseline.
      const conditions = checkConditions(c.args, {
        snap: post,
        baseline: pre,
        findings: evaluateFindings(post, desired),
      });
      expect(conditions.length).toBeGreaterThan(0);
      const moduleHolds = conditions.every((r) => r.holds);
      // `rollgate rollout`: the same task's journaled options as expectations, checked after the trial boot.
      const exp = noExpectations();
      verify.expectAfterBoot?.(exp, { args: c.args as Record<string, unknown>, status: 'ok' });
      const checks = verifyBoot('candidate', pre, post, exp, services, { desired });
      const rolloutHolds = verificationPassed(checks);
      expect({ module: moduleHolds, rollout: rolloutHolds }, JSON.stringify({ conditions, checks }, null, 1)).toEqual({
        module: c.holds,
        rollout: c.holds,
      });
      // The command-line conditions under the same names and with the same verdict in both.
      const named = (rs: ReadonlyArray<{ name: string; holds: boolean }>) =>
        rs.filter((r) => r.name === 'cmdline_present' || r.name === 'cmdline_absent');
      expect(named(checks.map((k) => ({ name: k.name, holds: k.ok })))).toEqual(
        named(conditions.map((r) => ({ name: r.condition, holds: r.holds }))),
      );
    });

  it('without the verify task, the same boot verifies: the cases above fail by what the task declared', () => {
    for (const c of cases.filter((x) => !x.holds && x.pre === undefined && x.post === undefined)) {
      const pre = hostSnapshot(HEALTHY);
      const post = hostSnapshot(HEALTHY, { boot_id: BOOT2 });
      expect(
        verificationPassed(verifyBoot('candidate', pre, post, noExpectations(), services, { desired })),
        c.name,
      ).toBe(true);
    }
  });
});
