import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { recordfailWaitsForever } from '../../src/trial-boot/grub-preflight.js';

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
