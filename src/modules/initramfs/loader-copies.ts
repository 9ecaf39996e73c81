/**
 * The initrd a boot loader loads is not always /boot's image. kernel-install (systemd-boot's Type #1 entries)
 * copies the kernel and the initrd into `$BOOT/ENTRY-TOKEN/RELEASE/` on the ESP, and the entry names that copy:
 * rebuilding /boot's image changes nothing at the next boot until the copy is refreshed (Debian's
 * /etc/initramfs/post-update.d/systemd-boot does it after update-initramfs; nothing does it after `dracut -f`).
 * This finds, for each kernel release, the initrd files its loader entries name that are not the image itself,
 * so the initramfs module backs them up, refreshes them through the host's kernel-install and proves what is
 * inside the file that boots. Entries rollgate writes for a trial boot are left out: their copies are frozen on
 * purpose (the known-good boot must not change).
 */
import type { Connection } from '../../connection/connection.js';
import { sh } from '../../connection/shell-quote.js';
import { blsEntryForRelease, parseBlsEntry } from '../boot/bls-entry.js';
import { listRemoteDir, readRemoteFiles } from '../host-files.js';
import type { HostRoot } from '../host-root.js';

/** Where loader entries live ($BOOT): the ESP mounted at /efi or /boot/efi, or an XBOOTLDR/ESP at /boot. */
export const ENTRY_ROOTS = ['/efi', '/boot', '/boot/efi'] as const;
/** The ids of rollgate's own trial-boot entries (src/trial-boot/sdboot-preflight.ts, bls-trial.ts). */
const OWN_ENTRIES = new Set(['rollgate-known-good', 'rollgate-trial']);

export interface LoaderCopy {
  release: string;
  /** Host path of the entry file naming the copy. */
  entryFile: string;
  /** Host path of the initrd file the entry names (the copy the loader reads). */
  copy: string;
}

/** The initrd copies the loader entries of `releases` name, other than `imageOf(release)` itself (host paths). */
export async function loaderCopies(
  conn: Connection,
  hr: HostRoot,
  releases: readonly string[],
  imageOf: (release: string) => string,
): Promise<LoaderCopy[]> {
  const out: LoaderCopy[] = [];
  const seen = new Set<string>();
  for (const root of ENTRY_ROOTS) {
    const dir = hr.path(`${root}/loader/entries`);
    const files = (await readRemoteFiles(conn, await listRemoteDir(conn, dir, '*.conf'))).filter((f) => f.exists);
    const entries = files
      .map((f) => ({ file: f.path, entry: parseBlsEntry(f.path.split('/').pop() ?? '', f.content.toString('utf8')) }))
      .filter((e) => !OWN_ENTRIES.has(e.entry.id));
    for (const release of releases) {
      const hit = blsEntryForRelease(
        entries.map((e) => e.entry),
        release,
      );
      const found = entries.find((e) => e.entry === hit);
      if (!found) continue;
      for (const p of found.entry.initrd) {
        const copy = `${root}/${p}`.replace(/\/\/+/g, '/');
        if (copy === imageOf(release) || seen.has(copy)) continue;
        seen.add(copy);
        out.push({ release, entryFile: hr.hostPath(found.file), copy });
      }
    }
  }
  return out;
}

/** sha256 of host files in one round trip ('' for a missing one). */
export async function sha256Of(conn: Connection, paths: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (paths.length === 0) return out;
  const r = await conn.exec(
    sh`for f in ${[...paths]}; do if [ -f "$f" ]; then s=$(sha256sum < "$f") || exit 3; echo "\${s%% *}"; else echo -; fi; done`,
  );
  if (r.exitCode !== 0) throw new Error(`cannot read sha256 sums: ${r.stderr.trim()}`);
  const lines = r.stdout.split('\n');
  paths.forEach((p, i) => out.set(p, lines[i] === '-' ? '' : (lines[i] ?? '')));
  return out;
}
