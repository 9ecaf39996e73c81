import { describe, expect, it } from 'vitest';
import {
  argsSatisfied,
  editArgs,
  kernelArgProblem,
  requestProblems,
  splitArgs,
} from '../../../src/modules/boot/cmdline-args.js';
import {
  editCmdlineFile,
  editGrubFiles,
  effectiveCmdline,
  findAssignments,
} from '../../../src/modules/boot/grub-defaults.js';

describe('kernel argument edits', () => {
  it.each([
    ['', { present: ['intel_iommu=on', 'iommu=pt'], absent: [] }, 'intel_iommu=on iommu=pt'],
    ['quiet splash', { present: ['iommu=pt'], absent: [] }, 'quiet splash iommu=pt'],
    ['quiet  iommu=soft splash ', { present: ['iommu=pt'], absent: [] }, 'quiet splash iommu=pt '],
    ['intel_iommu=on iommu=pt quiet', { present: [], absent: ['iommu'] }, 'intel_iommu=on quiet'],
    ['intel-iommu=on quiet', { present: [], absent: ['intel_iommu'] }, 'quiet'],
    ['intel_iommu=on intel_iommu=igfx_off', { present: [], absent: ['intel_iommu=on'] }, 'intel_iommu=igfx_off'],
    [
      'vfio-pci.ids=10de:1e87 a',
      { present: ['vfio_pci.ids=10de:1e87,10de:10f8'], absent: [] },
      'a vfio_pci.ids=10de:1e87,10de:10f8',
    ],
    ['quiet iommu=pt', { present: ['iommu=pt'], absent: [] }, 'quiet iommu=pt'],
  ])('edits %j', (value, req, expected) => {
    expect(editArgs(value, req)).toBe(expected);
    expect(argsSatisfied(splitArgs(expected), req)).toBe(true);
  });

  it('refuses arguments a shell or GRUB would expand, and contradictions', () => {
    for (const bad of ['a"b', "a'b", 'x=$(id)', 'a;b', '`id`', 'a\nb', 'a b', '', '=x'])
      expect(kernelArgProblem(bad)).not.toBeNull();
    for (const ok of [
      'intel_iommu=on',
      'vfio-pci.ids=10de:1e87,10de:10f8',
      'console=ttyS0,115200n8',
      'isolcpus=1-3',
      'root=UUID=ab-cd',
    ]) {
      expect(kernelArgProblem(ok)).toBeNull();
    }
    expect(requestProblems({ present: ['iommu=pt'], absent: ['iommu'] })).toEqual([
      'iommu=pt is listed both as present and as absent',
    ]);
  });
});

const debianGrub = `# If you change this file, run 'update-grub' afterwards
GRUB_DEFAULT=saved
GRUB_TIMEOUT=1
GRUB_CMDLINE_LINUX_DEFAULT="console=ttyS0,115200n8 quiet"
GRUB_CMDLINE_LINUX=""   # the knob
#GRUB_CMDLINE_LINUX="commented out"
`;

describe('/etc/default/grub edits', () => {
  it('adds to GRUB_CMDLINE_LINUX in place and keeps every other byte', () => {
    const [out] = editGrubFiles([{ path: 'g', text: debianGrub }], {
      present: ['intel_iommu=on', 'iommu=pt'],
      absent: [],
    });
    expect(out!.text).toBe(debianGrub.replace('GRUB_CMDLINE_LINUX=""', 'GRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt"'));
  });

  it('removes from both variables in every file and adds to the last drop-in that sets the variable', () => {
    const files = [
      { path: 'grub', text: 'GRUB_CMDLINE_LINUX="iommu=soft a"\nGRUB_CMDLINE_LINUX_DEFAULT=\'quiet iommu=soft\'\n' },
      { path: 'grub.d/50.cfg', text: 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX b"\n' },
      { path: 'grub.d/60.cfg', text: 'GRUB_TIMEOUT=0\n' },
    ];
    const out = editGrubFiles(files, { present: ['iommu=pt'], absent: [] });
    expect(out.map((f) => f.text)).toEqual([
      'GRUB_CMDLINE_LINUX="a"\nGRUB_CMDLINE_LINUX_DEFAULT=\'quiet\'\n',
      'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX b iommu=pt"\n',
      'GRUB_TIMEOUT=0\n',
    ]);
    expect(effectiveCmdline(out)).toEqual({ GRUB_CMDLINE_LINUX: 'a b iommu=pt', GRUB_CMDLINE_LINUX_DEFAULT: 'quiet' });
  });

  it('appends an assignment when no file sets GRUB_CMDLINE_LINUX, and quotes an unquoted value that grows', () => {
    expect(editGrubFiles([{ path: 'g', text: 'GRUB_TIMEOUT=5' }], { present: ['iommu=pt'], absent: [] })[0]!.text).toBe(
      'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="iommu=pt"\n',
    );
    expect(
      editGrubFiles([{ path: 'g', text: 'GRUB_CMDLINE_LINUX=quiet\n' }], { present: ['iommu=pt'], absent: [] })[0]!
        .text,
    ).toBe('GRUB_CMDLINE_LINUX="quiet iommu=pt"\n');
  });

  it('refuses values it cannot rewrite safely', () => {
    expect(() => findAssignments({ path: 'g', text: 'GRUB_CMDLINE_LINUX="a\nb"\n' })).toThrow(
      /does not close on the same line/,
    );
    expect(() => findAssignments({ path: 'g', text: 'GRUB_CMDLINE_LINUX="$(cat /x)"\n' })).toThrow(
      /command substitution/,
    );
  });

  it('edits the first line of /etc/kernel/cmdline only', () => {
    expect(editCmdlineFile('root=UUID=x rw quiet\n', { present: ['iommu=pt'], absent: ['quiet'] })).toBe(
      'root=UUID=x rw iommu=pt\n',
    );
    expect(editCmdlineFile('root=/dev/sda1', { present: ['iommu=pt'], absent: [] })).toBe('root=/dev/sda1 iommu=pt');
  });
});

import {
  compareReleases,
  newestRelease,
  parseGrubDefault,
  parseSavedEntry,
} from '../../../src/modules/kernel/kernel-set.js';
import { parseAptSimulation, parseDnfCheckUpdate } from '../../../src/modules/kernel/package-manager.js';
import { isHeld } from '../../../src/modules/actions/kernel-package.js';

describe('kernel release helpers', () => {
  it('orders releases by their numbers', () => {
    expect(newestRelease(['6.1.0-9-amd64', '6.1.0-50-amd64', '6.1.0-10-amd64'])).toBe('6.1.0-50-amd64');
    expect(compareReleases('6.5.7-300.fc39.x86_64', '6.5.12-100.fc39.x86_64')).toBeLessThan(0);
    expect(compareReleases('5.15.0-91-generic', '5.15.0-91-generic')).toBe(0);
  });

  it('reads grubenv, GRUB_DEFAULT, apt simulations, dnf check-update and hold lists', () => {
    expect(parseSavedEntry('# GRUB Environment Block\nsaved_entry=gnulinux-advanced-x>gnulinux-6.1.0-50\n####')).toBe(
      'gnulinux-advanced-x>gnulinux-6.1.0-50',
    );
    expect(parseGrubDefault('GRUB_DEFAULT=0\n#GRUB_DEFAULT=1\nGRUB_DEFAULT="saved"\n')).toBe('saved');
    expect(
      parseAptSimulation(
        'Inst linux-image-6.1.0-51-amd64 (6.1.158-1 Debian-Security:12/stable-security [amd64])\nInst linux-image-amd64 [6.1.153-1] (6.1.158-1 ...)\n',
      ),
    ).toEqual(['6.1.0-51-amd64']);
    expect(
      parseDnfCheckUpdate('\nkernel.x86_64    6.5.7-300.fc39    updates\nkernel-core.x86_64 6.5.7-300.fc39 updates\n'),
    ).toEqual(['6.5.7-300.fc39.x86_64']);
    expect(isHeld(['kernel-0:6.5.7-300.fc39.x86_64.*'], 'kernel-6.5.7-300.fc39.x86_64')).toBe(true);
    expect(isHeld(['linux-image-6.1.0-51-amd64'], 'linux-image-6.1.0-51-amd64')).toBe(true);
    expect(isHeld(['linux-image-6.1.0-5'], 'linux-image-6.1.0-51-amd64')).toBe(false);
    expect(isHeld(['kernel-0:6.5.7-300.fc39.*'], 'kernel-6.5.7-300.fc39.x86_64')).toBe(true);
  });
});
