/**
 * A Debian-shaped throwaway root whose GRUB user tools are the real ones (grub-editenv, grub-reboot,
 * grub-set-default from grub2-common) and whose grub-mkconfig is the trial-boot fixture's, so the trial boot's
 * one-shot/saved logic runs against real grubenv files. Shared by the trial-boot and rollout integration tests.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { put, TEST_KERNEL } from './fake-root.js';

const FIXTURES = new URL('../../fixtures/trial-boot/', import.meta.url).pathname;
/** The command line the root's grub.cfg boots (after BOOT_IMAGE=). */
export const GRUB_ROOT_ARGS = 'root=UUID=0000-test ro console=ttyS0,115200n8 quiet';

export interface GrubRootOptions {
  /** GRUB_DEFAULT in /etc/default/grub (the fake root ships `saved`). */
  grubDefault?: string;
  /** `absent`: no grubenv, as grub-install leaves it before the first save; `created`: an empty 1024-byte block. */
  grubenv: 'absent' | 'created';
}

export function updateGrub(r: string): void {
  execFileSync(join(r, 'usr/sbin/update-grub'), { env: { ...process.env, ROLLGATE_ROOT: r } });
}

/** Turn a root built with buildRoot(r, 'debian') into one booted by its grub.cfg with the real GRUB tools. */
export function useRealGrubTools(r: string, opts: GrubRootOptions): void {
  copyFileSync(join(FIXTURES, 'grub-mkconfig'), join(r, 'usr/sbin/grub-mkconfig'));
  copyFileSync(join(FIXTURES, 'grub-probe'), join(r, 'usr/sbin/grub-probe'));
  mkdirSync(join(r, 'usr/bin'), { recursive: true });
  symlinkSync('/usr/bin/grub-editenv', join(r, 'usr/bin/grub-editenv'));
  for (const t of ['grub-reboot', 'grub-set-default']) {
    rmSync(join(r, 'usr/sbin', t), { force: true }); // the Debian profile's grub-set-default double
    symlinkSync(`/usr/sbin/${t}`, join(r, 'usr/sbin', t));
  }
  if (opts.grubDefault !== undefined) {
    const file = join(r, 'etc/default/grub');
    writeFileSync(file, readFileSync(file, 'utf8').replace('GRUB_DEFAULT=saved', `GRUB_DEFAULT=${opts.grubDefault}`));
  }
  put(r, 'proc/cmdline', `BOOT_IMAGE=/boot/vmlinuz-${TEST_KERNEL} ${GRUB_ROOT_ARGS}\n`);
  put(r, 'etc/grub.d/.keep', '');
  rmSync(join(r, 'boot/grub/grubenv'), { force: true });
  updateGrub(r);
  if (opts.grubenv === 'created') execFileSync('grub-editenv', [join(r, 'boot/grub/grubenv'), 'create']);
}
