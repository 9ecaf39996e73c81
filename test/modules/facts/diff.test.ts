import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { hostSnapshot, HEALTHY } from './host-fixture.js';
import { diffSnapshots } from '../../../src/modules/facts/diff.js';

const text = (n: string) => readFileSync(`${HEALTHY}/${n}.txt`, 'utf8');
const beforePt = () =>
  hostSnapshot(HEALTHY, {
    boot_id: '11111111-2222-4333-8444-555555555555\n',
    cmdline: text('cmdline').replace(' iommu=pt', ''),
    iommu_group_types: text('iommu_group_types').replace(/identity/g, 'DMA'),
    dmesg: text('dmesg').replace(
      'Default domain type: Passthrough (set via kernel command line)',
      'Default domain type: Translated',
    ),
  });

describe('diffSnapshots', () => {
  it('names the guests a boot lost, the host devices they changed and the node devices libvirt lost', () => {
    const guests = readFileSync('test/fixtures/formats/libvirt/guests-section.txt', 'utf8').replace(
      /^@@nodedev-error .*$/m,
      '@@nodedev\npci_0000_00_02_0\npci_0000_01_00_0',
    );
    const after = guests
      .replace(/(@@domain pt\n@@state\n)running \(unknown\)/, '$1shut off (failed)')
      .replace(/(@@domain stopped pt\n@@state\n)shut off \(unknown\)/, '$1running (booted)')
      .replace('pci_0000_01_00_0', 'computer')
      .replace(
        /<address domain='0x0000' bus='0x00' slot='0x02' function='0x0'\/>/,
        "<address domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>",
      );
    const d = diffSnapshots(hostSnapshot(HEALTHY, { guests }), hostSnapshot(HEALTHY, { guests: after }));
    expect(d.changes).toEqual([
      { kind: 'guest-stopped', impact: 'regression', message: 'guest pt ran before and is shut off (failed) now' },
      { kind: 'guest-started', impact: 'change', message: 'guest stopped pt was shut off and runs now' },
      {
        kind: 'guest-hostdevs-changed',
        impact: 'change',
        message: 'guest stopped pt host devices +0000:00:03.0 -0000:00:02.0',
      },
      { kind: 'node-devices-lost', impact: 'regression', message: 'libvirt no longer enumerates 0000:01:00.0' },
    ]);
    expect(d.regressions).toBe(2);
  });

  it('names exactly what enabling iommu=pt changed', () => {
    const d = diffSnapshots(beforePt(), hostSnapshot(HEALTHY));
    expect(d.rebooted).toBe(true);
    expect(d.changes).toEqual([
      { kind: 'cmdline-arg-added', impact: 'change', message: 'kernel argument added: iommu=pt' },
      { kind: 'default-domain-changed', impact: 'change', message: 'default domain translated -> passthrough' },
    ]);
    expect(d.regressions).toBe(0);
  });

  it('reports nothing between two snapshots of the same state', () => {
    expect(diffSnapshots(hostSnapshot(HEALTHY), hostSnapshot(HEALTHY))).toEqual({
      host: 'hv01',
      rebooted: false,
      changes: [],
      regressions: 0,
    });
  });

  it('flags the regressions of a bad kernel update', () => {
    const after = hostSnapshot(HEALTHY, {
      boot_id: '99999999-2222-4333-8444-555555555555\n',
      kernel_release: '6.1.0-51-amd64\n',
      lspci: text('lspci').replace('Kernel driver in use: vfio-pci', 'Kernel driver in use: e1000e'),
      initramfs: '# image /boot/initrd.img-6.1.0-51-amd64\n',
      dmesg:
        text('dmesg').replace('DMAR-IR: Enabled IRQ remapping in x2apic mode', 'DMAR-IR: IRQ remapping disabled') +
        '[ 60.1] DMAR: [DMA Read NO_PASID] Request device [01:00.0] fault addr 0x7f3c0000 [fault reason 0x06] PTE Read access is not set\n',
      iommu_groups: text('iommu_groups').replace(
        '/sys/kernel/iommu_groups/3/devices/0000:00:1f.3',
        '/sys/kernel/iommu_groups/4/devices/0000:00:1f.3',
      ),
    });
    const d = diffSnapshots(hostSnapshot(HEALTHY), after);
    const kinds = d.changes.map((c) => `${c.kind}:${c.impact}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'kernel-changed:change',
        'interrupt-remapping-lost:regression',
        'driver-changed:regression',
        'group-members-changed:regression',
        'modules-left-initramfs:regression',
        'new-faults:regression',
      ]),
    );
    expect(d.changes.find((c) => c.kind === 'driver-changed')?.message).toBe(
      '0000:01:00.0 [8086:10d3] driver vfio-pci -> e1000e',
    );
    expect(d.changes.find((c) => c.kind === 'new-faults')?.message).toBe('1 new DMA fault(s) from 0000:01:00.0');
  });

  it('does not count a fault seen in the same boot twice', () => {
    const withFault = () =>
      hostSnapshot(HEALTHY, {
        dmesg:
          text('dmesg') +
          '[ 60.1] DMAR: [DMA Read] Request device [01:00.0] fault addr 7f3c0000 [fault reason 06] PTE Read access is not set\n',
      });
    expect(diffSnapshots(withFault(), withFault()).changes).toEqual([]);
  });
});
