import { describe, expect, it } from 'vitest';
import { expectationsFromSteps } from '../../../src/executor/rollout/expectations.js';
import type { StepRow } from '../../../src/journal/journal-types.js';

let id = 0;
function step(
  module: string,
  args: Record<string, unknown>,
  status: StepRow['status'] = 'applied',
  data: Record<string, unknown> | null = null,
  undoneAt: number | null = null,
): StepRow {
  return {
    id: ++id,
    runId: 'r',
    host: 'h',
    task: module,
    module,
    args,
    status,
    message: null,
    data,
    startedAt: 0,
    finishedAt: 0,
    undoneAt,
    undoneBy: null,
    hasUndo: true,
  };
}

describe('expectations read back from the journaled steps', () => {
  it('collects args, drivers, the kernel and the verify declarations of the steps that ran', () => {
    const exp = expectationsFromSteps(
      [
        step('kernel_args', { present: ['intel_iommu=on', 'iommu=pt'], absent: ['iommu=off'] }),
        step('kernel_args', { present: ['iommu=pt'] }, 'ok'),
        step('vfio_bind', { ids: ['10DE:1E87'] }),
        step('initramfs', { kernel: 'current' }),
        step('kernel_package', { state: 'adopt_newest' }, 'applied', { target_kernel: '6.1.0-99-amd64' }),
        step(
          'verify',
          {
            default_domain: 'passthrough',
            iommu_enabled: true,
            interrupt_remapping: true,
            cmdline_present: ['iommu=pt'],
          },
          'ok',
        ),
        step('command', { cmd: 'true' }),
      ],
      ['10de:1e87', '10de:10f8'],
    );
    expect(exp).toEqual({
      argsPresent: ['intel_iommu=on', 'iommu=pt'],
      argsAbsent: ['iommu=off'],
      verifyPresent: ['iommu=pt'],
      verifyAbsent: [],
      drivers: { '10de:1e87': 'vfio-pci' },
      vfioInInitramfs: true,
      kernelRelease: '6.1.0-99-amd64',
      defaultDomain: 'passthrough',
      iommuEnabled: true,
      interruptRemapping: true,
      passthroughIds: ['10de:1e87', '10de:10f8'],
    });
  });

  it('ignores failed, skipped and undone steps, and a kernel_package that only says what it was asked', () => {
    const exp = expectationsFromSteps(
      [
        step('kernel_args', { present: ['iommu=pt'] }, 'failed'),
        step('kernel_args', { present: ['intel_iommu=on'] }, 'skipped'),
        step('kernel_args', { present: ['amd_iommu=on'] }, 'applied', null, 123),
        step('kernel_package', { version: '6.1.0-13-amd64' }, 'ok'),
        step('vfio_bind', { ids: ['8086:10d3'] }),
      ],
      [],
    );
    expect(exp).toEqual({
      argsPresent: [],
      argsAbsent: [],
      verifyPresent: [],
      verifyAbsent: [],
      drivers: { '8086:10d3': 'vfio-pci' },
      kernelRelease: '6.1.0-13-amd64',
      passthroughIds: [],
    });
  });
});
