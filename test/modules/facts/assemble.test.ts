import { describe, expect, it } from 'vitest';
import { hostSnapshot, HEALTHY } from './host-fixture.js';
import { expectValidSnapshot } from '../../helpers/snapshot-schema.js';

describe('assembleSnapshot', () => {
  it('builds a complete snapshot of a healthy Intel passthrough host that matches the schema', () => {
    const s = hostSnapshot(HEALTHY);
    expectValidSnapshot(s);
    expect(s.kernelRelease).toEqual({ status: 'ok', value: '6.1.0-50-amd64' });
    expect(s.iommu.vendor).toMatchObject({ status: 'ok', value: { value: 'intel' } });
    expect(s.iommu.active).toMatchObject({ status: 'ok', value: { value: true } });
    expect(s.iommu.defaultDomain).toMatchObject({
      status: 'ok',
      value: { value: 'passthrough', evidence: ['/sys/kernel/iommu_groups/*/type: 5 × identity'] },
    });
    expect(s.iommu.interruptRemapping).toMatchObject({
      status: 'ok',
      value: { value: { enabled: true, mode: 'x2apic' } },
    });
    expect(s.pciPaths).toEqual({ status: 'ok', value: { '0000:01:00.0': ['0000:00:01.0'] } });
    expect(s.hardware).toMatchObject({ status: 'ok', value: { kind: 'QEMU Standard PC (Q35 + ICH9, 2009)' } });
  });

  it("turns a failed or missing source into unknown with the host's reason", () => {
    const s = hostSnapshot(HEALTHY, {
      lspci: { exitCode: 127, stderr: 'lspci not installed (pciutils)\n' },
      dmesg: { exitCode: 1, stderr: 'dmesg: read kernel buffer failed: Operation not permitted\n' },
      interrupts: null,
      tainted: { exitCode: 124 },
    });
    expectValidSnapshot(s);
    expect(s.pci).toEqual({ status: 'unknown', reason: 'lspci not installed (pciutils)' });
    expect(s.faults).toEqual({
      status: 'unknown',
      reason: 'dmesg: read kernel buffer failed: Operation not permitted',
    });
    expect(s.interrupts).toEqual({
      status: 'unknown',
      reason: 'the collection script did not report interrupts (its output was cut short)',
    });
    expect(s.security.tainted).toEqual({ status: 'unknown', reason: 'tainted did not finish within 30 s' });
    // sysfs still proves the IOMMU is on and its domain without the log
    expect(s.iommu.active).toMatchObject({ status: 'ok', value: { value: true } });
    expect(s.iommu.defaultDomain).toMatchObject({ status: 'ok', value: { value: 'passthrough' } });
  });

  it('reads a host with no IOMMU at all as inactive, not unknown', () => {
    const s = hostSnapshot(HEALTHY, {
      iommu_groups: '',
      iommu_group_types: '',
      dmesg:
        '# first: [    0.000000] Linux version 6.1.0-50-amd64\n[    0.021113] DMAR: IOMMU disabled\n[    0.412000] PCI-DMA: Using software bounce buffering for IO (SWIOTLB)\n',
    });
    expectValidSnapshot(s);
    expect(s.iommu.active).toMatchObject({ status: 'ok', value: { value: false } });
    expect(s.iommu.defaultDomain.status).toBe('unknown');
  });

  it('does not conclude "no IOMMU" from a log whose boot messages rotated out', () => {
    const s = hostSnapshot(HEALTHY, {
      iommu_groups: { exitCode: 1, stderr: 'Permission denied' },
      dmesg: '# first: [86400.1] eth0: link up\n',
    });
    expect(s.iommu.active.status).toBe('unknown');
    expect(s.iommu.vendor.status).toBe('unknown');
  });

  it('leaves the Debian default (no intel_iommu=on, translated) as an active IOMMU', () => {
    const s = hostSnapshot(HEALTHY, {
      cmdline: 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-50-amd64 root=UUID=x ro',
      iommu_group_types: '/sys/kernel/iommu_groups/0/type:DMA\n/sys/kernel/iommu_groups/1/type:DMA\n',
    });
    expect(s.iommu.active).toMatchObject({ status: 'ok', value: { value: true } });
    expect(s.iommu.defaultDomain).toMatchObject({ status: 'ok', value: { value: 'translated' } });
  });
});
