import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.js';
import { diffSnapshots } from '../../../src/modules/facts/diff.js';
import type { HostSnapshot } from '../../../src/modules/facts/snapshot.js';
import { checkConditions, type VerifyArgs } from '../../../src/modules/verify/conditions.js';
import { labSnapshot } from './lab-snapshot.js';
import { expectValidSnapshot } from '../../helpers/snapshot-schema.js';
import { evaluateFindings } from '../../../src/modules/findings/evaluate.js';
import { desiredStateFrom } from '../../../src/modules/findings/desired.js';

const desired = desiredStateFrom('lab1', { passthrough_devices: ['1234:1111', '8086:293e'] }).desired;

describe.each([
  { set: 'intel-default', vendor: 'intel', remapMode: 'xapic', product: 'rollgate-lab Intel GPU node' },
  { set: 'amd-default', vendor: 'amd', remapMode: null, product: 'rollgate-lab AMD GPU node' },
])('the $set lab capture as a whole snapshot', ({ set, vendor, remapMode, product }) => {
  const snap = labSnapshot(set);

  it('validates against the published schema', () => {
    expectValidSnapshot(snap);
  });

  it('shows the IOMMU on, translated (strict under a hypervisor), interrupts remapped', () => {
    expect(snap.kernelRelease).toEqual({ status: 'ok', value: '6.1.0-50-amd64' });
    expect(snap.iommu.vendor).toMatchObject({ status: 'ok', value: { value: vendor } });
    expect(snap.iommu.active).toMatchObject({ status: 'ok', value: { value: true } });
    expect(snap.iommu.defaultDomain).toMatchObject({ status: 'ok', value: { value: 'translated' } });
    expect(snap.iommu.interruptRemapping).toMatchObject({
      status: 'ok',
      value: { value: { enabled: true, mode: remapMode } },
    });
    expect(snap.hardware).toMatchObject({ status: 'ok', value: { kind: `rollgate-lab ${product}` } });
  });

  it('puts the GPU pair in one group on its host drivers, the root-port NIC alone', () => {
    const groups = snap.iommu.groups.status === 'ok' ? snap.iommu.groups.value : [];
    const members = (a: string) =>
      groups.find((g) => g.devices.some((d) => d.address === a))?.devices.map((d) => d.address);
    expect(members('0000:00:04.0')).toEqual(['0000:00:04.0', '0000:00:04.1']);
    expect(members('0000:01:00.0')).toEqual(['0000:01:00.0']);
    const pci = snap.pci.status === 'ok' ? snap.pci.value : [];
    expect(pci.filter((d) => ['0000:00:04.0', '0000:00:04.1'].includes(d.address)).map((d) => d.driver)).toEqual([
      'bochs-drm',
      'snd_hda_intel',
    ]);
  });

  it('leaves what the capture did not take unknown, with the reason', () => {
    expect(snap.bootId.status).toBe('unknown');
    expect(snap.hugepages.status).toBe('unknown');
  });

  it('finds the IOMMU layer sound and the named pair still on host drivers: fix the binding first', () => {
    const report = evaluateFindings(snap, desired);
    expect(report.findings.filter((f) => f.layer === 'iommu' && f.severity === 'error')).toEqual([]);
    expect(report.fixFirst).toBe('binding');
    expect(report.findings.filter((f) => f.severity === 'error').map((f) => [f.rule, f.device ?? null])).toEqual([
      ['binding.host-driver', '0000:00:04.0'],
      ['binding.host-driver', '0000:00:04.1'],
      ['binding.vfio-modules-not-loaded', null],
      ['binding.vfio-not-in-initramfs', null],
    ]);
  });
});

it('the lab captures are present', () => {
  expect(
    existsSync('test/fixtures/lab/intel-default/dmesg.txt') && existsSync('test/fixtures/lab/amd-default/dmesg.txt'),
  ).toBe(true);
});

describe.each(['intel', 'amd'])('the %s lab VM before and after a change', (vendor) => {
  const before = labSnapshot(`${vendor}-default`);
  const pt = labSnapshot(`${vendor}-pt`);
  const bound = labSnapshot(`${vendor}-vfio`, { base: `${vendor}-pt` });

  it('rollgate diff names exactly what iommu=pt changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-lab-diff-'));
    try {
      writeFileSync(join(dir, 'before.json'), JSON.stringify(before));
      writeFileSync(join(dir, 'after.json'), JSON.stringify(pt));
      const { code, out } = await captureStdout(() =>
        main(['node', 'rollgate', 'diff', join(dir, 'before.json'), join(dir, 'after.json'), '--json']),
      );
      expect(code).toBe(0);
      // The captures carry no boot_id, so whether the host rebooted is not claimed.
      expect(JSON.parse(out)).toEqual({
        host: 'lab1',
        rebooted: null,
        changes: [
          { kind: 'cmdline-arg-added', impact: 'change', message: 'kernel argument added: iommu=pt' },
          { kind: 'default-domain-changed', impact: 'change', message: 'default domain translated -> passthrough' },
        ],
        regressions: 0,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the three devices that moved to vfio-pci and the vfio modules that loaded', () => {
    expect(diffSnapshots(pt, bound).changes.map((c) => c.message)).toEqual([
      '0000:00:04.0 [1234:1111] driver bochs-drm -> vfio-pci',
      '0000:00:04.1 [8086:293e] driver snd_hda_intel -> vfio-pci',
      '0000:01:00.0 [8086:10d3] driver e1000e -> vfio-pci',
      'vfio_pci, vfio_pci_core, vfio_virqfd, vfio_iommu_type1, vfio now in the loaded modules',
    ]);
  });

  it('passes the verify of enable-iommu-passthrough.yml after the iommu=pt boot, and fails it before', () => {
    const args: VerifyArgs = {
      iommu_enabled: true,
      default_domain: 'passthrough',
      interrupt_remapping: true,
      cmdline_present: ['iommu=pt'],
      no_new_dma_faults: true,
    };
    const judge = (snap: HostSnapshot) =>
      checkConditions(args, { snap, baseline: before, findings: evaluateFindings(snap, desired) });
    expect(judge(pt).filter((c) => !c.holds)).toEqual([]);
    expect(
      judge(before)
        .filter((c) => !c.holds)
        .map((c) => `${c.condition}: ${c.found}`),
    ).toEqual(['default_domain: translated', 'cmdline_present: missing: iommu=pt']);
  });

  it('fails the verify of onboard-passthrough.yml on a runtime-only binding: vfio is not in the initramfs', () => {
    const args: VerifyArgs = { drivers: { '1234:1111': 'vfio-pci', '8086:293e': 'vfio-pci' }, vfio_in_initramfs: true };
    const results = checkConditions(args, { snap: bound, findings: evaluateFindings(bound, desired) });
    expect(results.map((c) => [c.condition, c.holds, c.found])).toEqual([
      ['drivers[1234:1111]', true, '0000:00:04.0 vfio-pci'],
      ['drivers[8086:293e]', true, '0000:00:04.1 vfio-pci'],
      ['vfio_in_initramfs', false, 'lacks vfio, vfio_iommu_type1, vfio_pci'],
    ]);
  });
});

async function captureStdout(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string | Uint8Array) => (chunks.push(String(c)), true)) as typeof process.stdout.write;
  try {
    return { code: await run(), out: chunks.join('') };
  } finally {
    process.stdout.write = orig;
  }
}
