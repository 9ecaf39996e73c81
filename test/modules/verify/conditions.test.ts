import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { hostSnapshot, HEALTHY } from '../facts/host-fixture.js';
import { checkConditions, describeVerification, type VerifyArgs } from '../../../src/modules/verify/conditions.js';
import { evaluateFindings } from '../../../src/modules/findings/evaluate.js';
import { desiredStateFrom } from '../../../src/modules/findings/desired.js';
import type { HostSnapshot } from '../../../src/modules/facts/snapshot.js';

const text = (n: string) => readFileSync(`${HEALTHY}/${n}.txt`, 'utf8');
const desired = desiredStateFrom('hv01', { passthrough_devices: ['8086:10d3'] }).desired;
const FAULT =
  '[ 60.1] DMAR: [DMA Read NO_PASID] Request device [01:00.0] fault addr 0x7f3c0000 [fault reason 0x06] PTE Read access is not set\n';

function judge(args: VerifyArgs, snap: HostSnapshot, baseline?: HostSnapshot) {
  return checkConditions(args, { snap, findings: evaluateFindings(snap, desired), ...(baseline ? { baseline } : {}) });
}

const ALL: VerifyArgs = {
  iommu_enabled: true,
  default_domain: 'passthrough',
  interrupt_remapping: true,
  kernel: '6.1.0-50-amd64',
  cmdline_present: ['intel_iommu=on', 'iommu=pt', 'console'],
  cmdline_absent: ['iommu=soft', 'amd_iommu'],
  drivers: { '8086:10D3': 'vfio_pci' },
  vfio_in_initramfs: true,
  no_new_dma_faults: true,
  no_error_findings: true,
};

describe('verify conditions', () => {
  it('holds every condition on the healthy Intel host, in the order of the options', () => {
    const results = judge(ALL, hostSnapshot(HEALTHY));
    expect(results.map((r) => [r.condition, r.holds])).toEqual([
      ['iommu_enabled', true],
      ['default_domain', true],
      ['interrupt_remapping', true],
      ['kernel', true],
      ['cmdline_present', true],
      ['cmdline_absent', true],
      ['drivers[8086:10D3]', true],
      ['vfio_in_initramfs', true],
      ['no_new_dma_faults', true],
      ['no_error_findings', true],
    ]);
    expect(describeVerification('hv01', results)).toBe('hv01: all 10 condition(s) hold');
  });

  const cases: Array<{
    name: string;
    args: VerifyArgs;
    changes: Record<string, string | null | { stdout?: string; stderr?: string; exitCode?: number }>;
    condition: string;
    found: RegExp;
    evidence?: RegExp;
    baseline?: Record<string, string>;
  }> = [
    {
      name: 'the default domain is translated',
      args: { default_domain: 'passthrough' },
      changes: {
        iommu_group_types: text('iommu_group_types').replace(/identity/g, 'DMA'),
        dmesg: text('dmesg').replace(
          'Default domain type: Passthrough (set via kernel command line)',
          'Default domain type: Translated',
        ),
      },
      condition: 'default_domain',
      found: /^translated$/,
      evidence: /DMA/,
    },
    {
      name: 'the IOMMU is off',
      args: { iommu_enabled: true },
      changes: { iommu_groups: '', iommu_group_types: '', dmesg: 'Linux version 6.1.0\n', cmdline: 'ro quiet\n' },
      condition: 'iommu_enabled',
      found: /^disabled$/,
    },
    {
      name: 'interrupt remapping is disabled',
      args: { interrupt_remapping: true },
      changes: {
        dmesg: text('dmesg').replace(
          'DMAR-IR: Enabled IRQ remapping in x2apic mode',
          'DMAR-IR: IRQ remapping disabled',
        ),
      },
      condition: 'interrupt_remapping',
      found: /^disabled$/,
    },
    {
      name: 'another kernel runs',
      args: { kernel: '6.1.0-51-amd64' },
      changes: {},
      condition: 'kernel',
      found: /^6\.1\.0-50-amd64$/,
      evidence: /uname -r/,
    },
    {
      name: 'a kernel argument is missing',
      args: { cmdline_present: ['iommu=pt', 'vfio-pci.ids=8086:10d3'] },
      changes: {},
      condition: 'cmdline_present',
      found: /^missing: vfio-pci\.ids=8086:10d3$/,
      evidence: /^\/proc\/cmdline: BOOT_IMAGE/,
    },
    {
      name: 'an argument that must be absent is there (bare name matches any value)',
      args: { cmdline_absent: ['intel_iommu'] },
      changes: {},
      condition: 'cmdline_absent',
      found: /^present: intel_iommu$/,
    },
    {
      name: 'the device is on its host driver',
      args: { drivers: { '8086:10d3': 'vfio-pci' } },
      changes: { lspci: text('lspci').replace('Kernel driver in use: vfio-pci', 'Kernel driver in use: e1000e') },
      condition: 'drivers[8086:10d3]',
      found: /^0000:01:00\.0 e1000e$/,
      evidence: /Kernel driver in use: e1000e/,
    },
    {
      name: 'the device is not on the host at all',
      args: { drivers: { '10de:1e87': 'vfio-pci' } },
      changes: {},
      condition: 'drivers[10de:1e87]',
      found: /^no device 10de:1e87 on this host$/,
    },
    {
      name: 'a malformed device id',
      args: { drivers: { '10de-1e87': 'vfio-pci' } },
      changes: {},
      condition: 'drivers[10de-1e87]',
      found: /is not a vendor:device id/,
    },
    {
      name: 'the initramfs lacks vfio_pci',
      args: { vfio_in_initramfs: true },
      changes: {
        initramfs: text('initramfs')
          .split('\n')
          .filter((l) => !l.includes('vfio-pci'))
          .join('\n'),
      },
      condition: 'vfio_in_initramfs',
      found: /^lacks vfio_pci$/,
    },
    {
      name: 'lspci is missing (unknown never holds)',
      args: { drivers: { '8086:10d3': 'vfio-pci' } },
      changes: { lspci: { stdout: '', stderr: 'sh: lspci: not found', exitCode: 127 } },
      condition: 'drivers[8086:10d3]',
      found: /^unknown: .*lspci: not found/,
    },
    {
      name: 'a new DMA fault since the baseline of the same boot',
      args: { no_new_dma_faults: true },
      changes: { dmesg: text('dmesg') + FAULT },
      baseline: {},
      condition: 'no_new_dma_faults',
      found: /^1 new fault\(s\)$/,
      evidence: /DMAR: \[DMA Read NO_PASID\] Request device \[01:00\.0\]/,
    },
    {
      name: 'an error finding',
      args: { no_error_findings: true },
      changes: { lspci: text('lspci').replace('Kernel driver in use: vfio-pci', 'Kernel driver in use: e1000e') },
      condition: 'no_error_findings',
      found: /^\d+ error finding\(s\)$/,
      evidence: /^binding\./,
    },
  ];

  for (const c of cases) {
    it(`fails when ${c.name}`, () => {
      const snap = hostSnapshot(HEALTHY, c.changes);
      const [r] = judge(c.args, snap, c.baseline ? hostSnapshot(HEALTHY, c.baseline) : undefined);
      expect(r).toMatchObject({ condition: c.condition, holds: false });
      expect(r!.found).toMatch(c.found);
      if (c.evidence) expect(r!.evidence.join('\n')).toMatch(c.evidence);
    });
  }

  it('does not count faults the baseline of the same boot already showed, nor after a reboot one it knew', () => {
    const faulty = hostSnapshot(HEALTHY, { dmesg: text('dmesg') + FAULT });
    expect(judge({ no_new_dma_faults: true }, faulty, faulty)[0]).toMatchObject({
      holds: true,
      found: '0 new fault(s)',
    });
    // The same boot: a line logged again is a new fault.
    const again = hostSnapshot(HEALTHY, { dmesg: text('dmesg') + FAULT + FAULT.replace('60.1', '61.5') });
    expect(judge({ no_new_dma_faults: true }, again, faulty)[0]).toMatchObject({ holds: false });
    // After a reboot the log starts over: the fault the host had before (same device, kind, reason) is known,
    // another device's is new.
    const boot2 = '99999999-2222-4333-8444-555555555555\n';
    const rebootedSame = hostSnapshot(HEALTHY, { dmesg: text('dmesg') + FAULT.replace('60.1', '9.2'), boot_id: boot2 });
    const [known] = judge({ no_new_dma_faults: true }, rebootedSame, faulty);
    expect(known).toMatchObject({ holds: true, found: '0 new fault(s)' });
    expect(known!.evidence[0]).toMatch(/^rebooted since the snapshot of/);
    const rebootedOther = hostSnapshot(HEALTHY, {
      dmesg: text('dmesg') + FAULT.replace('[01:00.0]', '[02:00.0]'),
      boot_id: boot2,
    });
    expect(judge({ no_new_dma_faults: true }, rebootedOther, faulty)[0]).toMatchObject({
      holds: false,
      found: '1 new fault(s)',
    });
    expect(judge({ no_new_dma_faults: true }, faulty)[0]!.evidence[0]).toBe(
      'no earlier snapshot to compare with: every fault of the current boot counts',
    );
  });

  it('checks nothing for options left out or no_* options set to false', () => {
    expect(
      judge({ no_new_dma_faults: false, no_error_findings: false, cmdline_present: [] }, hostSnapshot(HEALTHY)),
    ).toEqual([]);
    expect(describeVerification('hv01', [])).toBe('hv01: no condition to verify');
  });

  it('lists each failed condition with what was found and its evidence', () => {
    const snap = hostSnapshot(HEALTHY, {
      lspci: text('lspci').replace('Kernel driver in use: vfio-pci', 'Kernel driver in use: e1000e'),
    });
    const msg = describeVerification(
      'hv01',
      judge({ iommu_enabled: true, kernel: '7.0', drivers: { '8086:10d3': 'vfio-pci' } }, snap),
    );
    expect(msg).toBe(
      [
        'hv01: 2 of 3 condition(s) do not hold:',
        '  - kernel: wanted 7.0, found 6.1.0-50-amd64',
        '      uname -r: 6.1.0-50-amd64',
        '  - drivers[8086:10d3]: wanted vfio-pci, found 0000:01:00.0 e1000e',
        '      lspci: 0000:01:00.0 [8086:10d3] Kernel driver in use: e1000e',
      ].join('\n'),
    );
  });
});

describe('snapshot file names', () => {
  it('keep inventory names and replace what could leave the directory', async () => {
    const { snapshotFileName } = await import('../../../src/modules/facts/snapshot-file.js');
    expect(['hv-07.example', 'hv01', '../etc/passwd', '..', 'a b/c'].map(snapshotFileName)).toEqual([
      'hv-07.example.json',
      'hv01.json',
      '.._etc_passwd.json',
      '__.json',
      'a_b_c.json',
    ]);
  });
});
