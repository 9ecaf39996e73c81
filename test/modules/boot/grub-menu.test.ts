import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  bootArgs,
  copyPathFor,
  entryForRelease,
  firstNormalEntry,
  grubQuote,
  kernelRelease,
  parseGrubMenu,
  renderEntry,
} from '../../../src/modules/boot/grub-menu.js';

const U = '4f0c2d1e-8a7b-4c3d-9e5f-0a1b2c3d4e5f';
const cfg = readFileSync(new URL('../../fixtures/grub/debian12-grub.cfg', import.meta.url), 'utf8');

describe('parseGrubMenu on a Debian 12 grub.cfg', () => {
  const entries = parseGrubMenu(cfg);
  it('finds every entry with its submenu path, kernel, args and initrd', () => {
    expect(entries.map((e) => e.ref)).toEqual([
      `gnulinux-simple-${U}`,
      `gnulinux-advanced-${U}>gnulinux-6.1.0-50-amd64-advanced-${U}`,
      `gnulinux-advanced-${U}>gnulinux-6.1.0-50-amd64-recovery-${U}`,
      `gnulinux-advanced-${U}>gnulinux-6.1.0-41-amd64-advanced-${U}`,
      'uefi-firmware',
    ]);
    expect(entries[0]).toMatchObject({
      title: 'Debian GNU/Linux',
      kernel: '/boot/vmlinuz-6.1.0-50-amd64',
      args: `root=UUID=${U} ro iommu=pt console=ttyS0,115200n8`,
      initrd: ['/boot/initrd.img-6.1.0-50-amd64'],
      nested: false,
    });
    expect(entries[0]?.body).toHaveLength(10);
    expect(entries[4]?.kernel).toBeNull();
  });
  it('picks the normal entry that keeps booting a release (its own, not the top-level one), never recovery', () => {
    // The entry that names the release, not the top-level one that boots whatever kernel is newest.
    expect(entryForRelease(entries, '6.1.0-50-amd64')?.ref).toBe(
      `gnulinux-advanced-${U}>gnulinux-6.1.0-50-amd64-advanced-${U}`,
    );
    expect(entryForRelease(entries, '6.1.0-41-amd64')?.ref).toBe(
      `gnulinux-advanced-${U}>gnulinux-6.1.0-41-amd64-advanced-${U}`,
    );
    expect(entryForRelease(entries, '6.9.9')).toBeUndefined();
    expect(firstNormalEntry(entries)?.ref).toBe(`gnulinux-simple-${U}`);
  });
  it('reads releases from kernel paths, /boot separate or not', () => {
    expect(kernelRelease('/boot/vmlinuz-6.1.0-50-amd64')).toBe('6.1.0-50-amd64');
    expect(kernelRelease('/vmlinuz-6.8.0-45-generic')).toBe('6.8.0-45-generic');
    expect(kernelRelease(null)).toBeNull();
  });
});

describe('rendering rollgate entries', () => {
  const entries = parseGrubMenu(cfg);
  it('copies the loading lines of the source entry and swaps kernel, initrd and args', () => {
    const text = renderEntry(entries[0]!, {
      id: 'rollgate-known-good',
      title: 'rollgate known-good (6.1.0-50-amd64)',
      kernel: copyPathFor('/boot/vmlinuz-6.1.0-50-amd64'),
      initrd: ['/boot/rollgate/initrd.img-6.1.0-50-amd64'],
      args: bootArgs(`BOOT_IMAGE=/boot/vmlinuz-6.1.0-50-amd64 root=UUID=${U} ro console=ttyS0,115200n8 quiet`),
    });
    expect(text).toBe(`menuentry 'rollgate known-good (6.1.0-50-amd64)' --id rollgate-known-good {
	load_video
	insmod gzio
	if [ x$grub_platform = xxen ]; then insmod xzio; insmod lzopio; fi
	insmod part_gpt
	insmod ext2
	search --no-floppy --fs-uuid --set=root ${U}
	echo	'Loading Linux 6.1.0-50-amd64 ...'
	linux	/boot/rollgate/vmlinuz-6.1.0-50-amd64 root=UUID=${U} ro console=ttyS0,115200n8 quiet
	echo	'Loading initial ramdisk ...'
	initrd	/boot/rollgate/initrd.img-6.1.0-50-amd64
}
`);
    // What we render parses back to what we meant.
    const back = parseGrubMenu(text)[0]!;
    expect(back).toMatchObject({
      id: 'rollgate-known-good',
      kernel: '/boot/rollgate/vmlinuz-6.1.0-50-amd64',
      initrd: ['/boot/rollgate/initrd.img-6.1.0-50-amd64'],
    });
  });
  it('quotes words GRUB would otherwise read as syntax', () => {
    expect(grubQuote('console=ttyS0,115200n8')).toBe('console=ttyS0,115200n8');
    expect(grubQuote('a;b')).toBe("'a;b'");
    expect(grubQuote("it's $x")).toBe("'it'\\''s $x'");
    expect(parseGrubMenu(`menuentry ${grubQuote("it's")} --id x {\n}\n`)[0]?.title).toBe("it's");
  });
  it('keeps a separate /boot in GRUB paths', () => {
    expect(copyPathFor('/vmlinuz-6.8.0-45-generic')).toBe('/rollgate/vmlinuz-6.8.0-45-generic');
  });
});
