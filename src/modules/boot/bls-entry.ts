/**
 * Boot Loader Specification type #1 entries (`/boot/loader/entries/ID.conf`, uapi-group.org/specifications/specs/
 * boot_loader_specification): one `key value` per line, `#` comments, the id is the file name without `.conf`
 * (minus a boot counter `+LEFT[-DONE]`). Read by GRUB's blscfg (Fedora/RHEL) and by systemd-boot. Pure: the
 * trial-boot drivers read the files and write copies of them with another id, every other line kept as it was.
 */

export interface BlsEntry {
  /** The file name without `.conf` and without a boot counter: what `next_entry` / `bootctl` name. */
  id: string;
  /** The file name as it is on disk (with `.conf`, and the counter when there is one). */
  fileName: string;
  /** The file's text, kept to write copies with the same layout. */
  text: string;
  /** Each key's first value (`linux`, `options`, `version` ...); `initrd` may repeat, see `initrd`. */
  fields: Record<string, string>;
  initrd: string[];
}

/** `ID+LEFT-DONE.conf` -> the id and the counter (systemd's automatic boot assessment). */
export function splitBootCounter(fileName: string): { id: string; left?: number; done?: number } {
  const stem = fileName.replace(/\.conf$/, '');
  const m = /^(.*)\+(\d+)(?:-(\d+))?$/.exec(stem);
  if (!m) return { id: stem };
  const [, id = stem, left, done] = m;
  return { id, left: Number(left), ...(done !== undefined ? { done: Number(done) } : {}) };
}

export function parseBlsEntry(fileName: string, text: string): BlsEntry {
  const fields: Record<string, string> = {};
  const initrd: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'initrd') initrd.push(...value.split(/\s+/).filter((p) => p !== ''));
    if (!(key in fields)) fields[key] = value;
  }
  return { id: splitBootCounter(fileName).id, fileName, text, fields, initrd };
}

/**
 * The entry booting `release`: its kernel file is `vmlinuz-RELEASE` (Fedora's 20-grub.install; the `version`
 * field may carry `-debug` there), else its `version` is the release (kernel-install's 90-loaderentry.install,
 * whose kernel file is `ENTRY-TOKEN/RELEASE/linux`).
 */
export function blsEntryForRelease(entries: readonly BlsEntry[], release: string): BlsEntry | undefined {
  return (
    entries.find((e) => (e.fields.linux ?? '').split('/').pop() === `vmlinuz-${release}`) ??
    entries.find((e) => e.fields.version === release)
  );
}

/** The release an entry boots: from its kernel file name (`/vmlinuz-RELEASE`), else its `version`. */
export function blsRelease(entry: BlsEntry): string | null {
  const base = (entry.fields.linux ?? '').split('/').pop() ?? '';
  return base.startsWith('vmlinuz-') ? base.slice('vmlinuz-'.length) : (entry.fields.version ?? null);
}

/**
 * A copy of `entry` with other values for some keys, every other line (grub_users, grub_arg, grub_class, machine-id
 * ...) as it was. `initrd` replaces all initrd lines with one line per path, where the first one stood.
 */
export function rewriteBlsEntry(
  entry: BlsEntry,
  set: Record<string, string> & { initrd?: never },
  initrd?: string[],
): string {
  const out: string[] = [];
  const seen = new Set<string>();
  let initrdDone = false;
  for (const line of entry.text.replace(/\n$/, '').split('\n')) {
    // The separator is kept: kernel-install aligns values in a column (`linux      /...`), Fedora uses one space.
    const [, key = '', sep = ' '] = /^\s*(\S+)(\s*)/.exec(line) ?? [];
    if (key === 'initrd' && initrd) {
      if (!initrdDone) out.push(...initrd.map((p) => `initrd${sep}${p}`));
      initrdDone = true;
    } else if (key in set && !key.startsWith('#')) {
      if (!seen.has(key)) out.push(`${key}${sep}${set[key]}`);
      seen.add(key);
    } else out.push(line);
  }
  for (const [key, value] of Object.entries(set)) if (!seen.has(key)) out.push(`${key} ${value}`);
  if (initrd && !initrdDone) out.push(...initrd.map((p) => `initrd ${p}`));
  return `${out.join('\n')}\n`;
}
