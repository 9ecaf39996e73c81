/**
 * GRUB menus as data: the entries of a generated grub.cfg (with their submenu path, id, kernel, args and initrd)
 * and the text of entries rollgate writes itself (the frozen known-good entry, the one-shot trial entry). Pure.
 */

export interface GrubEntry {
  title: string;
  /** The entry's own --id / $menuentry_id_option, or null. */
  id: string | null;
  /** What grub-set-default / grub-reboot accept: ids (or titles) of the enclosing submenus and the entry, joined by '>'. */
  ref: string;
  /** Lines between the braces, as written. */
  body: string[];
  kernel: string | null;
  args: string;
  initrd: string[];
  /** Inside a submenu. */
  nested: boolean;
}

const OPEN = /^\s*(menuentry|submenu)\s+(.*)\{\s*$/;
const ID = /(?:--id|\$menuentry_id_option)\s+(?:'([^']*)'|"([^"]*)"|(\S+))/;

function firstQuoted(s: string): string {
  const m = /^\s*(?:'((?:[^']|'\\'')*)'|"([^"]*)"|(\S+))/.exec(s);
  return (m?.[1]?.replace(/'\\''/g, "'") ?? m?.[2] ?? m?.[3] ?? '').trim();
}

/** Every menuentry of a grub.cfg, in menu order, submenus flattened (their entries carry the '>' path). */
export function parseGrubMenu(cfg: string): GrubEntry[] {
  const entries: GrubEntry[] = [];
  const stack: Array<{ kind: 'submenu' | 'menuentry' | 'block'; key: string; entry?: GrubEntry }> = [];
  for (const line of cfg.split('\n')) {
    const open = OPEN.exec(line);
    if (open) {
      const title = firstQuoted(open[2] as string);
      const idm = ID.exec(open[2] as string);
      const id = idm ? (idm[1] ?? idm[2] ?? idm[3] ?? null) : null;
      const key = id ?? title;
      if (open[1] === 'submenu') {
        stack.push({ kind: 'submenu', key });
        continue;
      }
      const path = [...stack.filter((s) => s.kind === 'submenu').map((s) => s.key), key];
      const entry: GrubEntry = {
        title,
        id,
        ref: path.join('>'),
        body: [],
        kernel: null,
        args: '',
        initrd: [],
        nested: path.length > 1,
      };
      entries.push(entry);
      stack.push({ kind: 'menuentry', key, entry });
      continue;
    }
    const current = [...stack].reverse().find((f) => f.kind === 'menuentry')?.entry;
    if (/^\s*\}\s*$/.test(line) && stack.length > 0) {
      // Closing a menuentry/submenu ends it; closing a block inside an entry is part of the entry's body.
      const top = stack.pop();
      if (top?.kind !== 'block' || !current) continue;
    } else if (/\{\s*$/.test(line)) stack.push({ kind: 'block', key: '' });
    if (!current) continue;
    const e = current;
    e.body.push(line);
    const linux = /^\s*linux(?:16|efi)?\s+(\S+)\s*(.*)$/.exec(line);
    if (linux) {
      e.kernel = linux[1] as string;
      e.args = (linux[2] as string).trim();
    }
    const initrd = /^\s*initrd(?:16|efi)?\s+(.*)$/.exec(line);
    if (initrd) e.initrd = (initrd[1] as string).trim().split(/\s+/);
  }
  return entries;
}

/** The release of a kernel path such as /boot/vmlinuz-6.1.0-50-amd64 or /vmlinuz-6.1.0-50-amd64. */
export function kernelRelease(kernelPath: string | null): string | null {
  const m = /\/vmlinu[xz]-([^/\s]+)$/.exec(kernelPath ?? '');
  return m ? (m[1] as string) : null;
}

function isRecovery(e: GrubEntry): boolean {
  return /recovery|rescue/i.test(e.title) || /(^|\s)(single|emergency|systemd\.unit=rescue\.target)(\s|$)/.test(e.args);
}

/**
 * The normal (not recovery, not rollgate's) entry that boots this release and keeps booting it: one whose id names
 * the release (Debian's `gnulinux-<release>-advanced-<uuid>` in its submenu) before a top-level one. Debian's
 * top-level `gnulinux-simple-<uuid>` boots whichever kernel is newest at the next update-grub, so as a saved default
 * it would switch kernels, untried, the moment a newer package is installed.
 */
export function entryForRelease(entries: readonly GrubEntry[], release: string): GrubEntry | undefined {
  const fits = entries.filter(
    (e) => kernelRelease(e.kernel) === release && !isRecovery(e) && !e.id?.startsWith('rollgate-'),
  );
  return fits.find((e) => e.id?.includes(release)) ?? fits.find((e) => !e.nested) ?? fits[0];
}

/** The entry GRUB boots by default on a fresh menu: the first one that is not rollgate's. */
export function firstNormalEntry(entries: readonly GrubEntry[]): GrubEntry | undefined {
  return entries.find((e) => e.kernel !== null && !e.id?.startsWith('rollgate-') && !isRecovery(e));
}

/** Quote a word for GRUB's script language (sh-like single quotes). */
export function grubQuote(word: string): string {
  return /^[A-Za-z0-9_.,:/=+@%-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Kernel args as /proc/cmdline shows them, without what the boot loader adds (BOOT_IMAGE=, initrd=). */
export function bootArgs(procCmdline: string): string[] {
  return procCmdline
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '' && !w.startsWith('BOOT_IMAGE=') && !w.startsWith('initrd='));
}

/**
 * The args an entry boots with, for comparing entries: without `panic=N`, which only says what a panic does and
 * which rollgate itself adds to every trial (a committed trial keeps running with it until its next boot).
 */
export function comparableArgs(args: readonly string[]): string {
  return args.filter((a) => !a.startsWith('panic=')).join(' ');
}

export interface EntrySpec {
  id: string;
  title: string;
  kernel: string;
  initrd: string[];
  args: readonly string[];
}

/**
 * A menuentry that loads like `like` (same modules, same `search` for the boot filesystem) but boots the given
 * kernel, initrd and args. Every other line of the source body is kept as it was.
 */
export function renderEntry(like: GrubEntry, spec: EntrySpec): string {
  const body = like.body.map((line) => {
    const indent = /^\s*/.exec(line)?.[0] ?? '\t';
    if (/^\s*linux(?:16|efi)?\s/.test(line))
      return `${indent}linux\t${grubQuote(spec.kernel)} ${spec.args.map(grubQuote).join(' ')}`.trimEnd();
    if (/^\s*initrd(?:16|efi)?\s/.test(line)) return `${indent}initrd\t${spec.initrd.map(grubQuote).join(' ')}`;
    return line;
  });
  return [`menuentry ${grubQuote(spec.title)} --id ${grubQuote(spec.id)} {`, ...body, '}'].join('\n') + '\n';
}

/** Where the copy of a boot file lives, in GRUB's view of the path: /boot/vmlinuz-R -> /boot/rollgate/vmlinuz-R. */
export function copyPathFor(grubPath: string, dir = 'rollgate'): string {
  const slash = grubPath.lastIndexOf('/');
  return `${grubPath.slice(0, slash)}/${dir}/${grubPath.slice(slash + 1)}`;
}
