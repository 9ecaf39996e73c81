import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { recordfailWaitsForever, unwritableGrubenv } from '../../src/trial-boot/grub-preflight.js';

// A real Debian 12 grub.cfg, captured from a lab VM (GRUB_RECORDFAIL_TIMEOUT unset).
const DEBIAN = readFileSync(new URL('../fixtures/lab/intel-default/grub-cfg.txt', import.meta.url), 'utf8');
const UBUNTU = DEBIAN.replace(/(if \[ "\$\{recordfail\}" = 1 \] ; then\n\s*set timeout=)30/, '$1-1');

describe('recordfail in the GRUB preflight', () => {
  it('accepts Debian, whose grub.cfg waits 30 s at the menu after a failed boot', () => {
    expect(DEBIAN).toMatch(/if \[ "\$\{recordfail\}" = 1 \] ; then\n\s*set timeout=30\n/);
    expect(recordfailWaitsForever(DEBIAN, 'unset')).toBe(false);
  });

  it('refuses a grub.cfg that waits forever after a failed boot (Ubuntu default), whatever the variable says now', () => {
    expect(UBUNTU).not.toBe(DEBIAN);
    expect(recordfailWaitsForever(UBUNTU, 'unset')).toBe(true);
    expect(recordfailWaitsForever(UBUNTU, '5')).toBe(true); // set, but update-grub has not run since
  });

  it('falls back to the variable when grub.cfg has recordfail but no timeout line it knows, and ignores a cfg without recordfail', () => {
    const other = 'function recordfail {\n  set recordfail=1\n}\n';
    expect(recordfailWaitsForever(other, 'unset')).toBe(true);
    expect(recordfailWaitsForever(other, '-1')).toBe(true);
    expect(recordfailWaitsForever(other, '10')).toBe(false);
    expect(recordfailWaitsForever('set timeout=5\n', 'unset')).toBe(false);
  });
});

describe('a grubenv grub-editenv cannot write', () => {
  const path = '/boot/grub/grubenv';
  it('names the attribute or the mount behind it and the command that undoes it', () => {
    expect(
      unwritableGrubenv(path, {
        grubenv_unwritable: 'Operation not permitted',
        grubenv_attrs: '----i---------e-------',
      }),
    ).toEqual({
      message:
        '/boot/grub/grubenv is immutable (chattr +i; Operation not permitted): grub-editenv cannot write it, so neither the known-good default nor the one-shot trial can be set',
      hint: 'chattr -i /boot/grub/grubenv, once you know why it was set',
    });
    expect(
      unwritableGrubenv(path, {
        grubenv_unwritable: 'Operation not permitted',
        grubenv_attrs: '-----a--------e-------',
      }).hint,
    ).toBe('chattr -a /boot/grub/grubenv, once you know why it was set');
    expect(
      unwritableGrubenv(path, {
        grubenv_unwritable: 'Read-only file system',
        grubenv_attrs: '--------------e-------',
        grubenv_mountpoint: '/boot',
      }),
    ).toMatchObject({
      message: expect.stringMatching(/^\/boot\/grub\/grubenv is on a read-only mount \(Read-only file system\)/),
      hint: 'mount -o remount,rw /boot (and make it rw in /etc/fstab)',
    });
  });

  it('falls back to the error it gave when no attribute or mount explains it', () => {
    expect(unwritableGrubenv(path, { grubenv_unwritable: 'Permission denied', grubenv_attrs: '' })).toEqual({
      message:
        '/boot/grub/grubenv cannot be opened for writing (Permission denied): grub-editenv cannot write it, so neither the known-good default nor the one-shot trial can be set',
      hint: 'make /boot/grub/grubenv writable by root',
    });
  });
});
