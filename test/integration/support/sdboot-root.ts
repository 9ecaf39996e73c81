/**
 * A Debian-shaped throwaway root booted by systemd-boot: loader entries from test/fixtures/systemd-boot/ (shaped as
 * kernel-install's 90-loaderentry.install writes them, see its README) on an "ESP" at boot/efi, the Boot Loader
 * Interface's EFI variables as efivarfs files under sys/firmware/efi/efivars, and the bootctl double (EFI
 * variables cannot be written on the test machine). SD_RUNNING runs; SD_NEWER is installed with a boot counter (+3).
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { put } from './fake-root.js';

const FIXTURES = new URL('../../fixtures/systemd-boot/', import.meta.url).pathname;
const BOOTCTL = new URL('../../fixtures/doubles/bootctl', import.meta.url).pathname;
export const SD_MACHINE_ID = '4d6b2a0f8c1e4b3a9f7d5c2e1a0b9c8d';
export const SD_RUNNING = '6.1.0-13-amd64';
export const SD_NEWER = '6.1.0-15-amd64';
export const SD_ARGS = `root=UUID=3e1f0c2a-7b5d-4c8e-9a6f-2d4b1c0e8f7a ro console=ttyS0,115200n8 quiet systemd.machine_id=${SD_MACHINE_ID}`;
export const SD_ENTRIES = 'boot/efi/loader/entries';
export const sdId = (release: string) => `${SD_MACHINE_ID}-${release}.conf`;
const GUID = '4a67b082-0a4c-41cf-b6c7-440b29bb8c4f';
const varPath = (r: string, name: string) => join(r, 'sys/firmware/efi/efivars', `${name}-${GUID}`);

/** An EFI variable as efivarfs shows it: 4 attribute bytes, then NUL-terminated UTF-16LE. */
export function setEfiVar(r: string, name: string, value: string, attrs = 0x06): void {
  put(
    r,
    `sys/firmware/efi/efivars/${name}-${GUID}`,
    Buffer.concat([Buffer.from([attrs, 0, 0, 0]), Buffer.from(`${value}\0`, 'utf16le')]),
  );
}
export function efiVar(r: string, name: string): string | null {
  const f = varPath(r, name);
  if (!existsSync(f)) return null;
  const raw = readFileSync(f);
  expectAttrs(raw);
  return raw.subarray(4).toString('utf16le').replace(/\0$/, '');
}
function expectAttrs(raw: Buffer): void {
  if (raw.length < 6 || raw[1] !== 0 || raw[2] !== 0 || raw[3] !== 0) throw new Error('not an efivarfs variable');
}

/** Turn a root built with buildRoot(r, 'systemd-boot') into the fixtures' Debian 12 ESP, booted from SD_RUNNING. */
export function useSdBootFixtures(r: string): void {
  rmSync(join(r, 'boot/loader'), { recursive: true, force: true });
  mkdirSync(join(r, SD_ENTRIES), { recursive: true });
  for (const f of readdirSync(join(FIXTURES, 'entries')))
    copyFileSync(join(FIXTURES, 'entries', f), join(r, SD_ENTRIES, f));
  for (const release of [SD_RUNNING, SD_NEWER]) {
    put(r, `boot/efi/${SD_MACHINE_ID}/${release}/linux`, `kernel image ${release}\n`);
    put(r, `boot/efi/${SD_MACHINE_ID}/${release}/initrd`, `initrd ${release}\n`);
  }
  put(r, 'proc/sys/kernel/osrelease', `${SD_RUNNING}\n`);
  put(r, 'proc/cmdline', `${SD_ARGS}\n`);
  setEfiVar(r, 'LoaderInfo', 'systemd-boot 252.19-1~deb12u1');
  setEfiVar(r, 'LoaderEntrySelected', sdId(SD_RUNNING));
  mkdirSync(join(r, 'usr/bin'), { recursive: true });
  copyFileSync(BOOTCTL, join(r, 'usr/bin/bootctl'));
  chmodSync(join(r, 'usr/bin/bootctl'), 0o755);
}

/**
 * What systemd-boot does at boot on this root, independent of rollgate's parsers: LoaderEntryOneShot (removed as
 * it is read), else LoaderEntryDefault; the entry file whose name, counter and all, is that id; a try counted
 * down in the file name before booting it; LoaderEntrySelected set; the entry's options become /proc/cmdline.
 */
export function bootSystemdBoot(r: string): string {
  const oneshot = efiVar(r, 'LoaderEntryOneShot');
  if (oneshot !== null) rmSync(varPath(r, 'LoaderEntryOneShot'));
  const id = oneshot ?? efiVar(r, 'LoaderEntryDefault') ?? '';
  const dir = join(r, SD_ENTRIES);
  // The id is the file name as it is, boot counter and all: systemd-boot up to 257 (systemd#38813; Debian 12's 252,
  // seen on the lab VM) does not strip it as bootctl does.
  const file = readdirSync(dir).find((f) => f === id);
  if (!file) throw new Error(`systemd-boot: no entry ${id}`);
  const counter = /\+(\d+)(?:-(\d+))?\.conf$/.exec(file);
  let booted = file;
  if (counter && Number(counter[1]) > 0) {
    booted = file.replace(/\+\d+(-\d+)?\.conf$/, `+${Number(counter[1]) - 1}-${Number(counter[2] ?? 0) + 1}.conf`);
    renameSync(join(dir, file), join(dir, booted));
  }
  setEfiVar(r, 'LoaderEntrySelected', id);
  const options = /^options\s+(.*)$/m.exec(readFileSync(join(dir, booted), 'utf8'))?.[1] ?? '';
  writeFileSync(join(r, 'proc/cmdline'), `${options}\n`);
  return booted;
}
