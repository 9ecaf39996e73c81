/**
 * The Boot Loader Interface's EFI variables (systemd-boot sets and reads them; uapi-group.org boot_loader_interface),
 * read from efivarfs: `/sys/firmware/efi/efivars/NAME-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f`, 4 attribute bytes
 * then a NUL-terminated UTF-16LE string. Only read here: writes go through the host's `bootctl`.
 *   LoaderInfo          the boot loader that booted this system ("systemd-boot 252.19-1~deb12u1")
 *   LoaderEntrySelected the entry id this boot was started from
 *   LoaderEntryDefault  what `bootctl set-default` set; LoaderEntryOneShot what `bootctl set-oneshot` set (the
 *                       boot loader removes it when it boots it)
 */
import { sh, type ShellFragment } from '../../connection/shell-quote.js';
import type { HostRoot } from '../host-root.js';

export const LOADER_GUID = '4a67b082-0a4c-41cf-b6c7-440b29bb8c4f';
export const LOADER_VARS = ['LoaderInfo', 'LoaderEntrySelected', 'LoaderEntryDefault', 'LoaderEntryOneShot'] as const;
export type LoaderVar = (typeof LOADER_VARS)[number];

export function loaderVarPath(hr: HostRoot, name: LoaderVar): string {
  return hr.path(`/sys/firmware/efi/efivars/${name}-${LOADER_GUID}`);
}

/**
 * A command printing the variable as text (ASCII ids and names; NULs dropped), nothing when it is unset. The file is
 * read as a stream (`cat`): efivarfs refuses the seek `tail -c +5 FILE` makes ("cannot seek to relative offset 4:
 * Illegal seek", seen on the systemd-boot lab VM), so every variable read empty on a real host.
 */
export function readLoaderVarCommand(hr: HostRoot, name: LoaderVar): ShellFragment {
  return sh`f=${loaderVarPath(hr, name)}; if [ -r "$f" ]; then cat "$f" | tail -c +5 | tr -d '\\000'; fi; echo`;
}
