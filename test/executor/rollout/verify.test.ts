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
