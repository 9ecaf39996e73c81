import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import {
  blsEntryForRelease,
  blsRelease,
  parseBlsEntry,
  rewriteBlsEntry,
  splitBootCounter,
} from '../../src/modules/boot/bls-entry.js';
import { bootSide } from '../../src/trial-boot/trial-boot.js';

// Entries shaped as Fedora's 20-grub.install writes them (test/fixtures/bls/README.md).
const DIR = new URL('../fixtures/bls/entries/', import.meta.url).pathname;
const ENTRIES = readdirSync(DIR)
  .sort()
  .map((f) => parseBlsEntry(f, readFileSync(`${DIR}${f}`, 'utf8')));

describe('BLS entries', () => {
  it("reads a Fedora entry's keys, its id and its kernel's release", () => {
    const e = ENTRIES[0]!;
    expect(e.id).toBe('5f3c8b2a9d0e4f6a8b7c1d2e3f4a5b6c-6.5.6-300.fc39.x86_64');
    expect(e.fields).toMatchObject({
      title: 'Fedora Linux (6.5.6-300.fc39.x86_64) 39 (Workstation Edition)',
      linux: '/vmlinuz-6.5.6-300.fc39.x86_64',
      grub_users: '$grub_users',
      grub_class: 'fedora',
    });
    expect(e.initrd).toEqual(['/initramfs-6.5.6-300.fc39.x86_64.img']);
    expect(blsRelease(e)).toBe('6.5.6-300.fc39.x86_64');
    expect(blsEntryForRelease(ENTRIES, '6.5.7-300.fc39.x86_64')?.id).toMatch(/-6\.5\.7-300\.fc39\.x86_64$/);
    expect(blsEntryForRelease(ENTRIES, '6.5.7-300.fc39')).toBeUndefined();
  });

  it('splits a boot counter off the file name (systemd boot assessment)', () => {
    expect(splitBootCounter('fedora-6.8.conf')).toEqual({ id: 'fedora-6.8' });
    expect(splitBootCounter('rollgate-trial+3.conf')).toEqual({ id: 'rollgate-trial', left: 3 });
    expect(splitBootCounter('rollgate-trial+0-3.conf')).toEqual({ id: 'rollgate-trial', left: 0, done: 3 });
    expect(parseBlsEntry('a+2-1.conf', 'linux /x\n').id).toBe('a');
  });

  it('rewrites some keys in place and keeps every other line, several initrd lines included', () => {
    const e = parseBlsEntry(
      'x.conf',
      '# keep\ntitle A\nlinux /v\ninitrd /u.img\ninitrd /i.img\noptions a b\ngrub_arg --unrestricted\n',
    );
    expect(rewriteBlsEntry(e, { title: 'B', options: 'c' }, ['/r/u.img', '/r/i.img'])).toBe(
      '# keep\ntitle B\nlinux /v\ninitrd /r/u.img\ninitrd /r/i.img\noptions c\ngrub_arg --unrestricted\n',
    );
    expect(rewriteBlsEntry(parseBlsEntry('y.conf', 'linux /v\n'), { options: 'c' })).toBe('linux /v\noptions c\n');
  });

  it("tells the frozen boot by blscfg's BOOT_IMAGE, which starts with the GRUB device", () => {
    const state = { bootImagePrefix: '/rollgate/', trialArgs: ['ro', 'panic=5'] };
    expect(bootSide('BOOT_IMAGE=(hd0,gpt2)/rollgate/vmlinuz-6.5.6 ro\n', state)).toBe('fallback');
    expect(bootSide('BOOT_IMAGE=(hd0,gpt2)/vmlinuz-6.5.7 ro panic=5\n', state)).toBe('trial');
    expect(bootSide('BOOT_IMAGE=(hd0,gpt2)/vmlinuz-6.5.7 ro\n', state)).toBe('other');
  });

  it("tells systemd-boot's frozen and trial boots by LoaderEntrySelected, which systemd-boot sets", () => {
    const state = {
      bootImagePrefix: '/boot/efi/rollgate/',
      trialArgs: ['ro', 'panic=5'],
      knownGoodRef: 'rollgate-known-good.conf',
      trialRef: 'rollgate-trial.conf',
    };
    expect(bootSide({ cmdline: 'ro', loaderEntry: 'rollgate-known-good.conf' }, state)).toBe('fallback');
    expect(bootSide({ cmdline: 'ro', loaderEntry: 'rollgate-trial.conf' }, state)).toBe('trial');
    expect(bootSide({ cmdline: 'ro panic=5' }, state)).toBe('trial');
    expect(bootSide({ cmdline: 'ro', loaderEntry: 'debian-6.1.conf' }, state)).toBe('other');
    expect(bootSide('ro', state)).toBe('other');
  });

  it('keeps the column alignment of kernel-install entries when rewriting a value', () => {
    const e = parseBlsEntry('d.conf', 'title      Debian\noptions    root=/dev/sda1 ro\nlinux      /m/6.1/linux\n');
    expect(rewriteBlsEntry(e, { options: 'ro quiet' })).toBe(
      'title      Debian\noptions    ro quiet\nlinux      /m/6.1/linux\n',
    );
    expect(blsEntryForRelease([parseBlsEntry('d.conf', 'version    6.1\nlinux      /m/6.1/linux\n')], '6.1')?.id).toBe(
      'd',
    );
  });
});
