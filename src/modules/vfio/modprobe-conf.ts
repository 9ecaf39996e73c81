/**
 * modprobe.d edits for vfio-pci: one `options vfio-pci ids=...` line (modprobe takes the last `ids=` it sees, so
 * an existing line is extended in place rather than a second one added), `softdep DRIVER pre: vfio-pci` so
 * vfio-pci loads before the host driver and claims the ids first, and `blacklist` lines. Pure; every line
 * rollgate adds is appended, every other byte is kept.
 */

export interface ConfFile {
  path: string;
  /** null: the file does not exist. */
  text: string | null;
}

export const normModule = (name: string): string => name.replace(/-/g, '_');
const VFIO_OPTIONS = /^(\s*options\s+vfio[-_]pci\b.*?\bids=)([0-9A-Fa-f:,]*)(.*)$/;

/** Append lines to a file's text, adding the missing final newline first. */
export function appendLines(text: string | null, lines: readonly string[], header?: string): string {
  const base = text ?? (header ? `${header}\n` : '');
  if (lines.length === 0) return base;
  const sep = base === '' || base.endsWith('\n') ? '' : '\n';
  return `${base}${sep}${lines.join('\n')}\n`;
}

function lines(text: string | null): string[] {
  return text === null ? [] : text.split('\n');
}

/** Where `options vfio-pci ids=` is set today: the files and their id lists. */
export function findVfioIds(files: readonly ConfFile[]): Array<{ path: string; ids: string[] }> {
  const found: Array<{ path: string; ids: string[] }> = [];
  for (const f of files) {
    for (const l of lines(f.text)) {
      const m = VFIO_OPTIONS.exec(l);
      if (m)
        found.push({
          path: f.path,
          ids: m[2]!
            .split(',')
            .filter(Boolean)
            .map((i) => i.toLowerCase()),
        });
    }
  }
  return found;
}

/** Whether some file already orders vfio-pci before this module. */
export function hasSoftdep(files: readonly ConfFile[], module: string): boolean {
  const want = normModule(module);
  return files.some((f) =>
    lines(f.text).some((l) => {
      const m = /^\s*softdep\s+(\S+)\s+pre:\s*(.*)$/.exec(l);
      return m !== null && normModule(m[1]!) === want && m[2]!.split(/\s+/).some((w) => normModule(w) === 'vfio_pci');
    }),
  );
}

export const MANAGED_HEADER =
  '# Managed by rollgate (vfio_bind): PCI ids bound to vfio-pci at boot, and the drivers it must load before.';

/**
 * New contents for the modprobe.d files: ids merged into the existing ids line, or a new line in the managed
 * file; a softdep for each host module that lacks one. Returns only files whose content changes.
 * Throws when several files set ids (which one wins depends on order; merge them by hand first).
 */
export function editVfioConf(
  files: readonly ConfFile[],
  managedPath: string,
  ids: readonly string[],
  hostModules: readonly string[],
): ConfFile[] {
  const existing = findVfioIds(files);
  const owners = [...new Set(existing.map((e) => e.path))];
  if (existing.length > 1) {
    throw new Error(
      `vfio-pci ids are set more than once (${owners.join(', ')}); modprobe uses only one of them, merge them into one line first`,
    );
  }
  const target = existing[0]?.path ?? managedPath;
  const file = files.find((f) => f.path === target) ?? { path: target, text: null };
  let text = file.text;
  const wanted = ids.map((i) => i.toLowerCase());
  if (existing[0]) {
    const missing = wanted.filter((i) => !existing[0]!.ids.includes(i));
    if (missing.length) {
      text = lines(text)
        .map((l) =>
          l.replace(
            VFIO_OPTIONS,
            (_m, head: string, list: string, tail: string) =>
              `${head}${[list, ...missing].filter(Boolean).join(',')}${tail}`,
          ),
        )
        .join('\n');
    }
  } else {
    text = appendLines(text, [`options vfio-pci ids=${wanted.join(',')}`], MANAGED_HEADER);
  }
  const softdeps = [...new Set(hostModules.map(normModule))]
    .filter((m) => m !== 'vfio_pci' && !hasSoftdep(files, m))
    .map((m) => `softdep ${m} pre: vfio-pci`);
  text = appendLines(text, softdeps);
  return text === file.text ? [] : [{ path: target, text }];
}

/** Modules blacklisted across the files (`blacklist NAME`). */
export function blacklisted(files: readonly ConfFile[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    for (const l of lines(f.text)) {
      const m = /^\s*blacklist\s+(\S+)/.exec(l);
      if (m) out.add(normModule(m[1]!));
    }
  }
  return out;
}
