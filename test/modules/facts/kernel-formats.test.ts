import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseDmaFaults } from '../../../src/modules/facts/parsers/dma-faults.js';
import { parseDmesgIommu } from '../../../src/modules/facts/parsers/dmesg-iommu.js';
import { parseIommuGroups } from '../../../src/modules/facts/parsers/iommu-groups.js';
import { parseCmdline, lastArg } from '../../../src/modules/facts/parsers/cmdline.js';
import { parseSecurityLog } from '../../../src/modules/facts/parsers/security.js';
import { concludeIommu, describeVerdict } from '../../../src/modules/facts/parsers/iommu-verdict.js';

const fixture = (name: string) => readFileSync(`test/fixtures/formats/kernel/${name}.txt`, 'utf8');

describe('Intel DMAR faults across kernel versions', () => {
  it('reads 5.14 (0x-prefixed device), 5.15+ NO_PASID, a PASID and an interrupt-remapping fault', () => {
    const f = parseDmaFaults(fixture('intel-5x-6x.dmesg'));
    expect(f.map((x) => [x.kind, x.device, x.access, x.address, x.code])).toEqual([
      ['dma', '0000:04:00.0', 'write', '0x69974000', '0x05'],
      ['dma', '0000:00:02.0', 'read', '0x0', '0x06'],
      ['dma', '0000:04:00.0', 'read', '0xffffd000', '0x59'],
      ['interrupt', '0000:f0:1f.0', 'unknown', '0x0', '0x25'],
    ]);
    expect(f[2]!.reason).toBe('SM: Present bit in PASID directory entry is clear');
  });

  it('reads the 4.x form with unprefixed hex', () => {
    const [f] = parseDmaFaults(fixture('intel-4x.dmesg'));
    expect(f).toMatchObject({ device: '0000:01:00.0', access: 'write', address: '0x7f3a4000', code: '0x05' });
  });
});

describe('AMD-Vi event log lines across kernel versions', () => {
  it('reads the 6.x IOMMU-device form, the 5.x faulting-device form and the 4.x form', () => {
    const f = parseDmaFaults(fixture('amd-4x-6x.dmesg'));
    expect(f.map((x) => [x.reason, x.device, x.access])).toEqual([
      ['IO_PAGE_FAULT', '0000:03:00.0', 'write'],
      ['IO_PAGE_FAULT', '0000:03:00.0', 'read'],
      ['INVALID_DEVICE_REQUEST', '0000:00:00.0', 'unknown'],
      ['IO_PAGE_FAULT', '0000:42:00.0', 'read'],
    ]);
  });
});

describe('iommu group membership from the kernel log', () => {
  it('keeps which device joined which group (5.x+), less devices removed later', () => {
    expect(parseDmesgIommu(fixture('intel-5x-6x.dmesg')).groups).toEqual([
      { id: 0, devices: ['0000:00:00.0'] },
      { id: 1, devices: ['0000:00:02.0'] },
      { id: 2, devices: ['0000:00:1f.0', '0000:00:1f.3'] },
      { id: 3, devices: ['0000:04:00.0'] },
    ]);
  });

  it("reads 4.x's `iommu: Adding device X to group N` and counts it as initialisation", () => {
    const d = parseDmesgIommu(fixture('intel-4x.dmesg'));
    expect(d.groups).toEqual([
      { id: 0, devices: ['0000:00:00.0'] },
      { id: 1, devices: ['0000:00:01.0', '0000:01:00.0', '0000:01:00.1'] },
    ]);
    expect(d.groupsAdded).toBe(4);
  });
});

describe('the IOMMU conclusion', () => {
  it('says yes with the line that proves it', () => {
    const v = concludeIommu(parseDmesgIommu(fixture('amd-4x-6x.dmesg')));
    expect(v.enabled).toBe('yes');
    expect(v.evidence[0]).toMatch(/Adding to iommu group 0|Found IOMMU/);
    expect(describeVerdict(v)[0]).toMatch(/^IOMMU enabled: yes \(the amd driver initialised\)/);
  });

  it('says no when the kernel turned it off, even though the default-domain line was printed', () => {
    const v = concludeIommu(parseDmesgIommu(fixture('off.dmesg')));
    expect(v).toEqual({
      enabled: 'no',
      reason: 'the kernel log says the IOMMU is disabled',
      evidence: ['DMAR: IOMMU disabled'],
    });
  });

  it('says unknown, not no, when hardware is announced but nothing shows it came up', () => {
    const v = concludeIommu(parseDmesgIommu('[ 0.1] DMAR: DRHD base: 0x000000fed90000 flags: 0x0\n'));
    expect(v.enabled).toBe('unknown');
    expect(v.evidence).toEqual(['DMAR: DRHD base: 0x000000fed90000 flags: 0x0']);
  });

  it('says unknown for a log with no IOMMU line', () => {
    expect(concludeIommu(parseDmesgIommu('[ 0.1] Linux version 6.1.0\n'))).toMatchObject({
      enabled: 'unknown',
      evidence: [],
    });
  });
});

describe('lockdown in all its wordings', () => {
  it('reads 5.4+ lockdown from EFI Secure Boot with a refusal naming the program', () => {
    expect(parseSecurityLog(fixture('intel-5x-6x.dmesg')).lockdownState).toEqual({
      state: 'locked',
      from: 'EFI Secure Boot mode',
      mode: null,
      restricted: ['modprobe: unsigned module loading'],
    });
  });

  it('reads the 4.x distro wording and a later SysRq lift', () => {
    const s = parseSecurityLog(fixture('intel-4x.dmesg'));
    expect(s.lockdownState).toEqual({
      state: 'lifted',
      from: 'EFI secure boot',
      mode: null,
      restricted: ['Hibernation'],
    });
    expect(s.lockdown).not.toContain('Lifting lockdown');
  });

  it('takes the level from lockdown= on the logged command line', () => {
    expect(parseSecurityLog(fixture('amd-4x-6x.dmesg')).lockdownState).toMatchObject({
      state: 'locked',
      from: 'command line',
      mode: 'confidentiality',
    });
  });

  it('does not take the LSM list naming lockdown for lockdown in force', () => {
    expect(
      parseSecurityLog('[ 0.1] LSM: initializing lsm=lockdown,capability,yama,apparmor\n').lockdownState,
    ).toBeNull();
  });
});

describe('IOMMU group listings in other scripts shapes', () => {
  it('reads ### Group N ### banners and keeps each device class', () => {
    const g = parseIommuGroups(fixture('hash-banner.iommu-groups'));
    expect(g.map((x) => [x.id, x.devices.map((d) => `${d.address} ${d.class} ${d.id}`)])).toEqual([
      [0, ['0000:00:00.0 0600 8086:3ec2']],
      [1, ['0000:00:01.0 0604 8086:1901', '0000:01:00.0 0300 10de:1f08', '0000:01:00.1 0403 10de:10f9']],
      [12, ['0000:03:00.0 0108 144d:a808']],
    ]);
  });

  it('reads `IOMMU Group: N` with `Group Device:` labels, and ignores the dmar unit lines', () => {
    const g = parseIommuGroups(fixture('labelled-tree.iommu-groups'));
    expect(g.map((x) => [x.id, x.devices.map((d) => d.address)])).toEqual([
      [15, ['0000:6a:00.4']],
      [16, ['0000:6a:01.0', '0000:6b:00.0']],
      [50, ['0000:97:00.4']],
    ]);
    expect(g[1]!.devices[1]!.class).toBe('0b40');
    expect(g[1]!.devices[1]!.description).toBe('Co-processor [0b40]: Intel Corporation Device [8086:4940]');
  });

  it('reads headers without a colon, tree-drawn device lines and sysfs paths in one paste', () => {
    const g = parseIommuGroups(fixture('bare-header.iommu-groups'));
    expect(g.map((x) => [x.id, x.devices.map((d) => d.address)])).toEqual([
      [7, ['0000:00:1c.0', '0000:02:00.0']],
      [8, ['0000:05:00.0', '0000:05:00.1']],
      [9, ['0000:06:00.0', '0000:06:00.1']],
    ]);
    expect(g[1]!.devices[0]!.class).toBe('0300');
  });
});

describe('a kernel command line pasted as GRUB configuration', () => {
  it('reads /etc/default/grub as sh does: comments skipped, $VAR expanded, LINUX then LINUX_DEFAULT', () => {
    const c = parseCmdline(fixture('etc-default-grub.cmdline'));
    expect(c.from).toBe('grub-default');
    expect(c.raw).toBe('rd.driver.pre=vfio-pci quiet splash intel_iommu=on iommu=pt vfio-pci.ids=10de:1f08,10de:10f9');
    expect(lastArg(c, 'vfio_pci.ids')).toBe('10de:1f08,10de:10f9');
    expect(c.args.some((a) => a.name === 'nomodeset')).toBe(false);
  });

  it('reads single quotes literally, export, and ${VAR} of an unset variable as empty', () => {
    const c = parseCmdline(fixture('single-quoted-grub.cmdline'));
    expect(c.args).toEqual([
      { name: 'video', value: 'efifb:off' },
      { name: 'quiet', value: null },
      { name: 'amd_iommu', value: 'on' },
      { name: 'dyndbg', value: 'file iommu.c +p' },
    ]);
  });

  it('reads a one-line paste of the assignment', () => {
    const c = parseCmdline('GRUB_CMDLINE_LINUX_DEFAULT="quiet splash intel_iommu=on"\n');
    expect(c.args.map((a) => a.name)).toEqual(['quiet', 'splash', 'intel_iommu']);
  });

  it('reads a grub.cfg linux line and the kernel log line', () => {
    expect(lastArg(parseCmdline(fixture('grub-cfg-linux.cmdline')), 'iommu')).toBe('pt');
    const k = parseCmdline(fixture('kernel-log.cmdline'));
    expect(k.from).toBe('kernel-log');
    expect(k.args[0]).toEqual({ name: 'BOOT_IMAGE', value: '/boot/vmlinuz-6.1.0-18-amd64' });
  });

  it('leaves a bare /proc/cmdline as it is', () => {
    expect(parseCmdline('BOOT_IMAGE=/vmlinuz ro quiet\n').from).toBeUndefined();
  });
});
