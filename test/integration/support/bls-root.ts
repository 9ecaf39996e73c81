/**
 * A Fedora-shaped throwaway root whose GRUB builds its menu from BLS entries: the entry files and grub.cfg from
 * test/fixtures/bls/ (shaped as Fedora's 20-grub.install and grub2-mkconfig write them, see its README), a
 * grubenv made and edited by the real grub-editenv (installed in the root as grub2-editenv), the grubby double
 * (grubby is not packaged for Debian) and the grub-probe double. Running kernel: BLS_RUNNING; BLS_NEWER is
 * installed beside it, never booted.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { put } from './fake-root.js';

const FIXTURES = new URL('../../fixtures/bls/', import.meta.url).pathname;
const PROBE = new URL('../../fixtures/trial-boot/grub-probe', import.meta.url).pathname;
export const BLS_MACHINE_ID = '5f3c8b2a9d0e4f6a8b7c1d2e3f4a5b6c';
export const BLS_RUNNING = '6.5.6-300.fc39.x86_64';
export const BLS_NEWER = '6.5.7-300.fc39.x86_64';
export const BLS_ARGS = 'root=UUID=6f1b3a52-8c4e-4d6f-9a2b-1c3d5e7f9a0b ro rootflags=subvol=root rhgb quiet';
export const blsId = (release: string) => `${BLS_MACHINE_ID}-${release}`;

export function grubenvOf(r: string): string {
  return execFileSync('grub-editenv', [join(r, 'boot/grub2/grubenv'), 'list'], { encoding: 'utf8' });
}

/** Turn a root built with buildRoot(r, 'fedora-bls') into the fixtures' Fedora 39 /boot. */
export function useBlsFixtures(r: string): void {
  rmSync(join(r, 'boot/loader/entries'), { recursive: true, force: true });
  mkdirSync(join(r, 'boot/loader/entries'), { recursive: true });
  for (const f of readdirSync(join(FIXTURES, 'entries')))
    copyFileSync(join(FIXTURES, 'entries', f), join(r, 'boot/loader/entries', f));
  for (const release of [BLS_RUNNING, BLS_NEWER]) {
    put(r, `boot/vmlinuz-${release}`, `kernel image ${release}\n`);
    put(r, `boot/initramfs-${release}.img`, `initramfs ${release}\n`);
  }
  put(r, 'boot/grub2/grub.cfg', readFileSync(join(FIXTURES, 'grub.cfg')));
  put(r, 'proc/sys/kernel/osrelease', `${BLS_RUNNING}\n`);
  put(r, 'proc/cmdline', `BOOT_IMAGE=(hd0,gpt2)/vmlinuz-${BLS_RUNNING} ${BLS_ARGS}\n`);
  mkdirSync(join(r, 'usr/bin'), { recursive: true });
  symlinkSync('/usr/bin/grub-editenv', join(r, 'usr/bin/grub2-editenv'));
  copyFileSync(PROBE, join(r, 'usr/sbin/grub2-probe'));
  rmSync(join(r, 'boot/grub2/grubenv'), { force: true });
  execFileSync('grub-editenv', [join(r, 'boot/grub2/grubenv'), 'create']);
  execFileSync('grub-editenv', [join(r, 'boot/grub2/grubenv'), 'set', `saved_entry=${blsId(BLS_RUNNING)}`]);
}

/**
 * What GRUB does at boot on this root, independent of rollgate's parsers: 00_header takes next_entry (clearing it
 * with save_env) or saved_entry, blscfg finds the entry by file name and boots `linux ($root)PATH options`.
 */
export function bootBls(r: string): string {
  const env = grubenvOf(r);
  const next = /^next_entry=(.*)$/m.exec(env)?.[1];
  const id = next || /^saved_entry=(.*)$/m.exec(env)?.[1] || '';
  if (next) execFileSync('grub-editenv', [join(r, 'boot/grub2/grubenv'), 'unset', 'next_entry']);
  const text = readFileSync(join(r, 'boot/loader/entries', `${id}.conf`), 'utf8');
  const linux = /^linux (.*)$/m.exec(text)?.[1];
  const options = /^options (.*)$/m.exec(text)?.[1];
  put(r, 'proc/cmdline', `BOOT_IMAGE=(hd0,gpt2)${linux} ${options}\n`);
  return id;
}
