import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  formatVerification,
  noExpectations,
  verificationPassed,
  verifyBoot,
  type Expectations,
} from '../../../src/executor/rollout/verify.js';
import { HEALTHY, hostSnapshot } from '../../modules/facts/host-fixture.js';

const read = (f: string) => readFileSync(`${HEALTHY}/${f}`, 'utf8');
const cmdlineWithPt = read('cmdline.txt');
const cmdlineBefore = cmdlineWithPt.replace(' iommu=pt', '');
const translatedTypes = read('iommu_group_types.txt').replace(/identity/g, 'DMA');
const translatedDmesg = read('dmesg.txt').replace(
  'Default domain type: Passthrough (set via kernel command line)',
  'Default domain type: Translated',
);

/** The host before `iommu=pt`: translated default domain, the NIC on vfio-pci. */
const pre = hostSnapshot(HEALTHY, {
  cmdline: cmdlineBefore,
  iommu_group_types: translatedTypes,
  dmesg: translatedDmesg,
});
const services = {
  pre: { ssh: 'active' as const, libvirtd: 'active' as const },
  post: { ssh: 'active' as const, libvirtd: 'active' as const },
};
const iommuPt: Expectations = {
  ...noExpectations(),
  argsPresent: ['iommu=pt'],
  defaultDomain: 'passthrough',
  passthroughIds: ['8086:10d3'],
};

const failed = (checks: ReturnType<typeof verifyBoot>) => checks.filter((c) => !c.ok).map((c) => c.name);

describe('verifyBoot', () => {
  it('passes the trial boot that shows iommu=pt, a passthrough domain and nothing lost', () => {
    const post = hostSnapshot(HEALTHY, { cmdline: `${cmdlineWithPt.trim()} panic=10\n` });
    const checks = verifyBoot('candidate', pre, post, iommuPt, services);
    expect(failed(checks)).toEqual([]);
    expect(verificationPassed(checks)).toBe(true);
    expect(checks.map((c) => c.name)).toEqual([
      'kernel',
      'cmdline',
      'iommu_active',
      'default_domain',
      'interrupt_remapping',
      'iommu_group 0000:01:00.0',
      'driver 0000:01:00.0 [8086:10d3]',
      'vfio_in_initramfs',
      'dma_faults',
      'service ssh',
      'service libvirtd',
    ]);
  });

  it('fails when the device lost its vfio-pci binding after the boot (no-vfio-after-boot)', () => {
    const lspci = read('lspci.txt').replace(/(\[8086:10d3\][\s\S]*?Kernel driver in use: )vfio-pci/, '$1e1000e');
    const post = hostSnapshot(HEALTHY, { lspci });
    const checks = verifyBoot('candidate', pre, post, iommuPt, services);
    expect(failed(checks)).toEqual(['driver 0000:01:00.0 [8086:10d3]']);
    expect(formatVerification(checks)[0]).toBe(
      '  FAIL  driver 0000:01:00.0 [8086:10d3]: expected vfio-pci, found e1000e',
    );
  });

  it('watches every device bound to vfio-pci before, declared or not: an undeclared binding lost fails', () => {
    const lspci = read('lspci.txt').replace(/(\[8086:10d3\][\s\S]*?Kernel driver in use: )vfio-pci/, '$1e1000e');
    const post = hostSnapshot(HEALTHY, {
      lspci,
      cmdline: cmdlineBefore,
      iommu_group_types: translatedTypes,
      dmesg: translatedDmesg,
    });
    // A play that declares nothing about the NIC (e.g. a kernel update): its binding is still checked.
    const checks = verifyBoot('candidate', pre, post, noExpectations(), services);
    expect(failed(checks)).toEqual(['driver 0000:01:00.0 [8086:10d3]']);
    expect(checks.map((c) => c.name)).toContain('iommu_group 0000:01:00.0');
    // Kept: the same boot verifies.
    expect(failed(verifyBoot('candidate', pre, pre, noExpectations(), services))).toEqual([]);
  });

  it('fails when the args did not make it, or another arg was lost', () => {
    const post = hostSnapshot(HEALTHY, {
      cmdline: cmdlineBefore.replace(' intel_iommu=on', ''),
      iommu_group_types: translatedTypes,
      dmesg: translatedDmesg,
    });
    const checks = verifyBoot('candidate', pre, post, iommuPt, services);
    expect(failed(checks)).toEqual(['cmdline', 'default_domain']);
    expect(checks.find((c) => c.name === 'cmdline')?.actual).toContain('(missing: intel_iommu=on iommu=pt)');
  });

  it("reports a verify task's command-line words as cmdline_present / cmdline_absent, as `rollgate run` does", () => {
    const post = hostSnapshot(HEALTHY, { cmdline: cmdlineWithPt });
    const exp: Expectations = { ...iommuPt, verifyPresent: ['iommu=pt', 'intel_iommu'], verifyAbsent: ['iommu=off'] };
    const checks = verifyBoot('candidate', pre, post, exp, services);
    expect(failed(checks)).toEqual([]);
    expect(checks.filter((c) => c.name.startsWith('cmdline'))).toMatchObject([
      { name: 'cmdline', ok: true },
      { name: 'cmdline_present', ok: true, expected: 'iommu=pt intel_iommu', actual: 'all present' },
      { name: 'cmdline_absent', ok: true, expected: 'iommu=off', actual: 'none present' },
    ]);
    // A word the task wants that the boot lacks fails cmdline_present, not the cmdline check (it is the task's).
    const missing = verifyBoot('candidate', pre, post, { ...exp, verifyPresent: ['quiet'] }, services);
    expect(failed(missing)).toEqual(['cmdline_present']);
    expect(missing.find((c) => c.name === 'cmdline_present')?.actual).toBe('missing: quiet');
    // ... so `rollout: verify: wanted: [cmdline_present]` makes it reported, not required.
    const wanted = verifyBoot('candidate', pre, post, { ...exp, verifyPresent: ['quiet'] }, services, {
      wanted: ['cmdline_present'],
    });
    expect(verificationPassed(wanted)).toBe(true);
    // A word the task wants gone that the boot still shows fails cmdline_absent alone.
    const kept = verifyBoot('candidate', pre, post, { ...iommuPt, verifyAbsent: ['intel_iommu'] }, services);
    expect(failed(kept)).toEqual(['cmdline_absent']);
  });

  it('leaves a verify word out of the cmdline check: asserted present may appear, asserted absent may go', () => {
    // No kernel_args change; a shell task added iommu=pt and dropped intel_iommu=on, and a verify task says so.
    const post = hostSnapshot(HEALTHY, { cmdline: cmdlineWithPt.replace(' intel_iommu=on', '') });
    const exp: Expectations = { ...noExpectations(), verifyPresent: ['iommu=pt'], verifyAbsent: ['intel_iommu'] };
    const checks = verifyBoot('candidate', pre, post, exp, services);
    expect(checks.filter((c) => c.name.startsWith('cmdline')).map((c) => [c.name, c.ok])).toEqual([
      ['cmdline', true],
      ['cmdline_present', true],
      ['cmdline_absent', true],
    ]);
    // Without the task the same boot fails the cmdline check: the words were neither declared nor asserted.
    expect(failed(verifyBoot('candidate', pre, post, noExpectations(), services))).toContain('cmdline');
  });

  it('fails on a wrong kernel, a stopped libvirtd and new DMA faults', () => {
    const faults =
      'DMAR: [DMA Read NO_PASID] Request device [01:00.0] fault addr 0x7f3c0000 [fault reason 0x06] PTE Read access is not set\n';
    const post = hostSnapshot(HEALTHY, {
      cmdline: cmdlineWithPt,
      kernel_release: '6.9.0-bad\n',
      dmesg: read('dmesg.txt') + `[   12.000000] ${faults}`,
    });
    const checks = verifyBoot('candidate', pre, post, iommuPt, {
      pre: services.pre,
      post: { ssh: 'active', libvirtd: 'failed' },
    });
    expect(failed(checks)).toEqual(['kernel', 'dma_faults', 'service libvirtd']);
  });

  it('after a rollback, expects the host exactly as it was before the run', () => {
    const same = hostSnapshot(HEALTHY, {
      cmdline: cmdlineBefore,
      iommu_group_types: translatedTypes,
      dmesg: translatedDmesg,
    });
    expect(failed(verifyBoot('known_good', pre, same, iommuPt, services))).toEqual([]);
    const stillChanged = hostSnapshot(HEALTHY, {});
    expect(failed(verifyBoot('known_good', pre, stillChanged, iommuPt, services))).toEqual([
      'cmdline',
      'default_domain',
    ]);
  });

  it('does not take an unreadable fact as good', () => {
    const post = hostSnapshot(HEALTHY, {
      cmdline: { stdout: '', stderr: 'cat: /proc/cmdline: Permission denied', exitCode: 1 },
    });
    expect(failed(verifyBoot('candidate', pre, post, iommuPt, services))).toContain('cmdline');
  });
});
