import { describe, expect, it } from 'vitest';
import { stripLogPrefix } from '../../../src/modules/facts/parsers/log-lines.js';
import { parseCmdline, lastArg, argOptions } from '../../../src/modules/facts/parsers/cmdline.js';
import { parseDmesgIommu, dmesgDomain } from '../../../src/modules/facts/parsers/dmesg-iommu.js';
import { parseDmaFaults } from '../../../src/modules/facts/parsers/dma-faults.js';
import { parseLspciNnk } from '../../../src/modules/facts/parsers/lspci-nnk.js';
import { parseLspciVv } from '../../../src/modules/facts/parsers/lspci-vv.js';
import { parseInterrupts, irqDevice, usesRemapping } from '../../../src/modules/facts/parsers/interrupts.js';
import { parseModprobeD } from '../../../src/modules/facts/parsers/modprobe-d.js';
import { parseSecureBoot, parseLockdown } from '../../../src/modules/facts/parsers/security.js';
import { parseDevVfio } from '../../../src/modules/facts/parsers/dev-vfio.js';
import { parseProcStat, softirqShare } from '../../../src/modules/facts/parsers/cpu-softirq.js';
import { parsePsThreads } from '../../../src/modules/facts/parsers/ps-threads.js';

describe('kernel log prefixes', () => {
  it.each([
    ['[    0.100209] DMAR: IOMMU enabled', '0.100209'],
    ['[Mon Feb  3 10:11:21 2026] DMAR: IOMMU enabled', 'Mon Feb  3 10:11:21 2026'],
    ['[Feb 4 10:18] DMAR: IOMMU enabled', 'Feb 4 10:18'],
    ['[  +0.000012] DMAR: IOMMU enabled', '+0.000012'],
    ['Jan 31 09:12:02 server kernel: DMAR: IOMMU enabled', 'Jan 31 09:12:02'],
    ['Jan 31 09:12:02 server kernel: [   13.134460] DMAR: IOMMU enabled', 'Jan 31 09:12:02'],
    ['2026-02-04T10:18:11+0000 hv07 kernel: DMAR: IOMMU enabled', '2026-02-04T10:18:11+0000'],
    ['[    3.123456] hv07 kernel: DMAR: IOMMU enabled', '3.123456'],
    ['kern  :info  : [    0.100209] DMAR: IOMMU enabled', '0.100209'],
    ['kernel: [   13.1] DMAR: IOMMU enabled', '13.1'],
  ])('strips %j', (line, stamp) => {
    expect(stripLogPrefix(line)).toEqual({ text: 'DMAR: IOMMU enabled', stamp });
  });

  it('keeps bracketed kernel text that is not a timestamp', () => {
    expect(stripLogPrefix('[drm] Initialized').text).toBe('[drm] Initialized');
  });
});

describe('parseCmdline', () => {
  it('keeps quoted values, duplicates and init arguments', () => {
    const c = parseCmdline(
      'BOOT_IMAGE=/vmlinuz root=/dev/sda1 dyndbg="file iommu.c +p" iommu=pt iommu=nopt intel_iommu=on,sm_on -- single\n',
    );
    expect(c.args.find((a) => a.name === 'dyndbg')?.value).toBe('file iommu.c +p');
    expect(lastArg(c, 'iommu')).toBe('nopt');
    expect(argOptions(c, 'intel-iommu')).toEqual(['on', 'sm_on']);
    expect(c.initArgs).toEqual(['single']);
  });
});

describe('parseDmesgIommu', () => {
  it('does not take the AMDv2 notice on an Intel host for an AMD IOMMU', () => {
    const d = parseDmesgIommu(
      '[ 1.0] AMD-Vi: AMD IOMMUv2 functionality not available on this system - This is not a bug.\n[ 1.1] DMAR: Host address width 39\n',
    );
    expect(d.vendor).toBe('intel');
    expect(d.initLine).toBeNull();
  });

  it('does not take the ACPI DMAR table line as an Intel IOMMU that is on', () => {
    const d = parseDmesgIommu('[ 0.01] ACPI: DMAR 0x00000000BFFE1F4F 000050 (v01 BOCHS  BXPC)\n');
    expect(d.vendor).toBeNull();
    expect(d.initLine).toBeNull();
  });

  it('reads strict flushing when the Intel driver disallows batching under a hypervisor (lab VM)', () => {
    const d = parseDmesgIommu(
      '[    3.71] iommu: Default domain type: Translated \n[    3.71] iommu: DMA domain TLB invalidation policy: lazy mode \n[    5.18] DMAR: IOMMU batching disallowed due to virtualization\n',
    );
    expect(d.flushPolicy).toEqual({ mode: 'strict', line: 'DMAR: IOMMU batching disallowed due to virtualization' });
    expect(dmesgDomain(d)).toBe('translated');
  });

  it('reads the Debian default (translated, strict) and the iommu=pt line', () => {
    const strict = parseDmesgIommu(
      'iommu: Default domain type: Translated\niommu: DMA domain TLB invalidation policy: strict mode\n',
    );
    expect(dmesgDomain(strict)).toBe('translated');
    const pt = parseDmesgIommu('iommu: Default domain type: Passthrough (set via kernel command line)\n');
    expect(dmesgDomain(pt)).toBe('passthrough');
    expect(pt.defaultDomain?.setViaCmdline).toBe(true);
  });
});

describe('parseDmaFaults', () => {
  it('names the device, access, address and reason of an Intel fault', () => {
    const [f] = parseDmaFaults(
      'DMAR: [DMA Write NO_PASID] Request device [02:00.0] fault addr 0xfe3e0000 [fault reason 0x05] PTE Write access is not set',
    );
    expect(f).toMatchObject({
      vendor: 'intel',
      device: '0000:02:00.0',
      access: 'write',
      address: '0xfe3e0000',
      code: '0x05',
      reason: 'PTE Write access is not set',
    });
  });
  it('ignores the DRHD status line and unrelated faults', () => {
    expect(
      parseDmaFaults('DMAR: DRHD: handling fault status reg 2\nBUG: unable to handle page fault for address: 0000\n'),
    ).toEqual([]);
  });
});

describe('parseLspciNnk', () => {
  it('reads detail lines indented with tabs, spaces or not at all', () => {
    for (const indent of ['\t', '    ', '']) {
      const [d] = parseLspciNnk(
        `01:00.0 VGA compatible controller [0300]: NVIDIA Corporation TU104 [GeForce RTX 2080] [10de:1e87] (rev a1)\n${indent}Kernel driver in use: nvidia\n${indent}Kernel modules: nouveau, nvidia\n`,
      );
      expect(d).toMatchObject({
        address: '0000:01:00.0',
        id: '10de:1e87',
        classCode: '0300',
        driver: 'nvidia',
        modules: ['nouveau', 'nvidia'],
      });
    }
  });
});

describe('parseLspciVv', () => {
  it('finds FLReset on the DevCap continuation line and reads access denied as unknown', () => {
    const caps = parseLspciVv(
      '00:1c.0 PCI bridge: Intel Corporation Device a110 (rev f0)\n\tCapabilities: [40] Express (v2) Root Port (Slot+), MSI 00\n\t\tDevCap:\tMaxPayload 256 bytes, PhantFunc 0\n\t\t\tExtTag- RBE+ FLReset-\n01:00.0 VGA compatible controller: NVIDIA\n\tCapabilities: <access denied>\n',
    );
    expect(caps[0]).toMatchObject({ address: '0000:00:1c.0', portType: 'Root Port', flr: false, acs: null });
    expect(caps[1]).toMatchObject({ address: '0000:01:00.0', accessDenied: true, flr: null });
  });
});

describe('parseInterrupts', () => {
  it('groups queues by device and sees remapping chips', () => {
    const i = parseInterrupts(
      '           CPU0       CPU1\n  24:  100  0  IR-PCI-MSI 524288-edge  eth0-TxRx-0\n  25:  0  90  PCI-MSI 524289-edge  nvme0q3\n',
    );
    expect(i.cpus).toBe(2);
    expect(i.lines.map(irqDevice)).toEqual(['eth0', 'nvme0']);
    expect(usesRemapping(i)).toBe(true);
    expect(usesRemapping(parseInterrupts('  25:  0  90  PCI-MSI 524289-edge  nvme0q3\n'))).toBe(false);
  });
});

describe('parseModprobeD', () => {
  it('finds vfio ids, blacklists and softdeps that load vfio-pci first', () => {
    const m = parseModprobeD(
      '# comment\n/etc/modprobe.d/vfio.conf:options vfio_pci ids=8086:10D3,10de:1e87:1462:3771\n/etc/modprobe.d/vfio.conf:softdep e1000e pre: vfio-pci\nsoftdep snd_hda_intel post: vfio-pci\ninstall nvidia /bin/false\n',
    );
    expect(m.vfioIds).toEqual(['10de:1e87', '8086:10d3']);
    expect(m.vfioSoftdeps).toEqual(['e1000e']);
    expect(m.blacklisted).toEqual(['nvidia']);
  });
});

describe('security, /dev/vfio, profile', () => {
  it('reads Secure Boot from mokutil, the EFI variable, or the lack of EFI', () => {
    expect(parseSecureBoot('SecureBoot enabled\n')?.state).toBe('enabled');
    expect(parseSecureBoot('efivar:  6  0  0  0  0\n')?.state).toBe('disabled');
    expect(parseSecureBoot('# no-efi\n')?.state).toBe('unsupported');
    expect(parseLockdown('none [integrity] confidentiality\n')).toBe('integrity');
  });
  it('flags world-writable vfio nodes', () => {
    const v = parseDevVfio(
      'crw-rw-rw- 1 root root 243, 0 Feb 4 10:20 7\ncrw-rw-rw- 1 root root 10, 196 Feb 4 10:20 vfio\n',
    );
    expect(v.nodes.map((n) => [n.name, n.worldWritable])).toEqual([
      ['7', true],
      ['vfio', true],
    ]);
    expect(parseDevVfio('# absent\n')).toEqual({ present: false, nodes: [] });
  });
  it('computes the softirq share per CPU over a window', () => {
    const before = parseProcStat('cpu0 100 0 100 700 0 0 100 0 0 0\ncpu1 100 0 100 800 0 0 0 0 0 0\n');
    const after = parseProcStat('cpu0 100 0 100 700 0 0 600 0 0 0\ncpu1 200 0 200 1300 0 0 0 0 0 0\n');
    expect(softirqShare(before, after)).toEqual([
      { cpu: 'cpu0', softPct: 100 },
      { cpu: 'cpu1', softPct: 0 },
    ]);
  });
  it('keeps thread names with spaces and classifies vCPU threads', () => {
    const t = parsePsThreads('  4100  4123   3  95.0 CPU 0/KVM\n  4100  4130   3  20.1 vhost-4100\n');
    expect(t.map((x) => [x.name, x.cpu, x.role])).toEqual([
      ['CPU 0/KVM', 3, 'vcpu'],
      ['vhost-4100', 3, 'vhost'],
    ]);
  });
});

describe('iommu core messages without hardware', () => {
  it('does not take "Default domain type" alone for an initialised IOMMU (printed even with no IOMMU hardware)', () => {
    const d = parseDmesgIommu(
      '[    0.4] iommu: Default domain type: Translated\n[    0.4] iommu: DMA domain TLB invalidation policy: lazy mode\n',
    );
    expect(d.initLine).toBeNull();
    expect(d.vendor).toBeNull();
  });
});
