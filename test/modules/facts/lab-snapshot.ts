/**
 * A whole snapshot assembled from a lab capture (test/fixtures/lab/PROFILE-VARIANT/, scripts/capture-lab-fixtures.sh):
 * each captured source becomes the collection-script section that reads the same thing. Sources the capture does
 * not take (boot_id, meminfo, ...) stay missing, so the snapshot says they are unknown.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SectionResult } from '../../../src/modules/facts/script.js';
import { assembleSnapshot } from '../../../src/modules/facts/assemble.js';
import type { HostSnapshot } from '../../../src/modules/facts/snapshot.js';
import { fixedMeta } from './host-fixture.js';

/** Lab capture source -> collection-script section. */
const SECTION_OF: Record<string, string> = {
  'uname-r': 'kernel_release',
  cmdline: 'cmdline',
  'dmidecode-system': 'dmi',
  cpuinfo: 'cpuinfo',
  dmesg: 'dmesg',
  'journal-k-prev': 'dmesg_previous_boot',
  'iommu-groups': 'iommu_groups',
  'iommu-group-types': 'iommu_group_types',
  'lspci-nnk': 'lspci',
  lsmod: 'modules',
  lsinitramfs: 'initramfs',
  'modprobe-d': 'modprobe_d',
  interrupts: 'interrupts',
  'dev-vfio': 'dev_vfio',
  lockdown: 'lockdown',
  'lspci-vv-passthrough': 'lspci_vv',
  // The guests capture (scripts/capture-lab-guests-fixtures.sh): the snapshot's own guests section command.
  guests: 'guests',
};

export const LAB_FIXTURES = 'test/fixtures/lab';
/** The GPU pair every lab kind names for passthrough (src/lab/kinds.ts). */
export const LAB_PASSTHROUGH = ['1234:1111', '8086:293e'];

/** A capture as a snapshot; `base` fills the sources a partial capture (the `vfio` variants) did not retake. */
export function labSnapshot(set: string, opts: { base?: string; host?: string } = {}): HostSnapshot {
  const host = opts.host ?? 'lab1';
  const sections = new Map<string, SectionResult>();
  for (const dir of [opts.base, set].filter((d): d is string => d !== undefined)) {
    for (const [source, section] of Object.entries(SECTION_OF)) {
      const file = join(LAB_FIXTURES, dir, `${source}.txt`);
      if (existsSync(file)) sections.set(section, { stdout: readFileSync(file, 'utf8'), stderr: '', exitCode: 0 });
    }
  }
  sections.set('whoami', { stdout: '0\n', stderr: '', exitCode: 0 });
  return assembleSnapshot(sections, fixedMeta({ host, passthroughIds: LAB_PASSTHROUGH }));
}
