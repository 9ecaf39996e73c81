import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestsRecipeHash, recipeHash, sdbootRecipeHash } from '../../src/lab/image.js';
import { guestsRecipeDir, recipeDir, sdbootRecipeDir } from '../../src/lab/settings.js';

describe('image recipe hash', () => {
  it('changes with any recipe byte, the exec bit, the mirror and the suite, and nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-recipe-'));
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'build.sh'), 'echo one\n');
    writeFileSync(join(dir, 'files', 'grub'), 'GRUB_DEFAULT=saved\n');
    const base = recipeHash(dir, 'http://m/debian');
    expect(recipeHash(dir, 'http://m/debian')).toBe(base);
    expect(recipeHash(dir, 'http://other/debian')).not.toBe(base);
    expect(recipeHash(dir, 'http://m/debian', 'trixie')).not.toBe(base);
    chmodSync(join(dir, 'build.sh'), 0o755);
    const exec = recipeHash(dir, 'http://m/debian');
    expect(exec).not.toBe(base);
    writeFileSync(join(dir, 'files', 'grub'), 'GRUB_DEFAULT=0\n');
    expect(recipeHash(dir, 'http://m/debian')).not.toBe(exec);
  });

  it('finds the shipped recipe with its build script and package list', () => {
    expect(recipeHash(recipeDir(), 'http://deb.debian.org/debian')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('gives the systemd-boot image its own hash, from the GRUB image and its own recipe, outside the GRUB recipe', () => {
    const grub = recipeHash(recipeDir(), 'http://deb.debian.org/debian');
    expect(sdbootRecipeDir().startsWith(recipeDir() + '/')).toBe(false); // the GRUB hash never covers it
    const sd = sdbootRecipeHash(grub);
    expect(sd).toMatch(/^[0-9a-f]{16}$/);
    expect(sd).not.toBe(grub);
    expect(sdbootRecipeHash('0000000000000000')).not.toBe(sd);
    const dir = mkdtempSync(join(tmpdir(), 'rg-sdboot-recipe-'));
    writeFileSync(join(dir, 'derive.sh'), 'echo one\n');
    const a = sdbootRecipeHash(grub, dir);
    writeFileSync(join(dir, 'derive.sh'), 'echo two\n');
    expect(sdbootRecipeHash(grub, dir)).not.toBe(a);
  });

  it('gives the guests image its own hash, from the GRUB image and lab/image-guests/, apart from systemd-boot', () => {
    const grub = recipeHash(recipeDir(), 'http://deb.debian.org/debian');
    expect(guestsRecipeDir().startsWith(recipeDir() + '/')).toBe(false);
    const g = guestsRecipeHash(grub);
    expect(g).toMatch(/^[0-9a-f]{16}$/);
    expect(g).not.toBe(grub);
    expect(g).not.toBe(sdbootRecipeHash(grub));
    expect(guestsRecipeHash('0000000000000000')).not.toBe(g);
    const dir = mkdtempSync(join(tmpdir(), 'rg-guests-recipe-'));
    writeFileSync(join(dir, 'derive.sh'), 'echo one\n');
    // The same files under the systemd-boot derivation's name give another hash.
    expect(guestsRecipeHash(grub, dir)).not.toBe(sdbootRecipeHash(grub, dir));
    const a = guestsRecipeHash(grub, dir);
    writeFileSync(join(dir, 'guest-init'), '#!/bin/busybox sh\n');
    expect(guestsRecipeHash(grub, dir)).not.toBe(a);
  });
});
