import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
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
    expect(snap.iommu.interruptRemapping).toMatchObject({ status: 'ok', value: { value: { enabled: true, mode: remapMode } } });
    expect(snap.hardware).toMatchObject({ status: 'ok', value: { kind: `rollgate-lab ${product}` } });
  });

  it('puts the GPU pair in one group on its host drivers, the root-port NIC alone', () => {
    const groups = snap.iommu.groups.status === 'ok' ? snap.iommu.groups.value : [];
    const members = (a: string) => groups.find((g) => g.devices.some((d) => d.address === a))?.devices.map((d) => d.address);
    expect(members('0000:00:04.0')).toEqual(['0000:00:04.0', '0000:00:04.1']);
    expect(members('0000:01:00.0')).toEqual(['0000:01:00.0']);
    const pci = snap.pci.status === 'ok' ? snap.pci.value : [];
    expect(pci.filter((d) => ['0000:00:04.0', '0000:00:04.1'].includes(d.address)).map((d) => d.driver)).toEqual(['bochs-drm', 'snd_hda_intel']);
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
  expect(existsSync('test/fixtures/lab/intel-default/dmesg.txt') && existsSync('test/fixtures/lab/amd-default/dmesg.txt')).toBe(true);
});
