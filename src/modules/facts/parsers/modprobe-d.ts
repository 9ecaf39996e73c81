/**
 * modprobe configuration: `options`, `blacklist`, `softdep`, `install`, `alias` lines, from plain file contents or
 * `grep -H`/`grep -R` output (`/etc/modprobe.d/vfio.conf:options vfio-pci ids=10de:1e87`). Comments and blank
 * lines are skipped; `\` continuations are joined.
 */
import { moduleName } from './lsmod.js';

export interface ModprobeDirective {
  kind: 'options' | 'blacklist' | 'softdep' | 'install' | 'alias' | 'remove';
  /** Module the line is about, underscored (`vfio_pci`). */
  module: string;
  /** The rest of the line. */
  args: string;
  /** File the line came from, when the input said. */
  file: string | null;
}

export interface ModprobeConfig {
  directives: ModprobeDirective[];
  /** Device ids given to vfio-pci (`options vfio-pci ids=...`), lower case. */
  vfioIds: string[];
  /** Modules blacklisted (or `install X /bin/false`-style disabled). */
  blacklisted: string[];
  /** `softdep X pre: vfio-pci` -> X: modules that load vfio-pci first. */
  vfioSoftdeps: string[];
}

const KINDS = new Set(['options', 'blacklist', 'softdep', 'install', 'alias', 'remove']);

export function parseModprobeD(text: string): ModprobeConfig {
  const directives: ModprobeDirective[] = [];
  const joined = text.replace(/\\\r?\n/g, ' ');
  for (const raw of joined.split('\n')) {
    let line = raw.replace(/\r$/, '');
    let file: string | null = null;
    const pre = /^(\/[^:\s]+):(?:\d+:)?(.*)$/.exec(line);
    if (pre) {
      file = pre[1]!;
      line = pre[2]!;
    }
    line = line.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m || !KINDS.has(m[1]!)) continue;
    directives.push({
      kind: m[1] as ModprobeDirective['kind'],
      module: m[1] === 'alias' ? m[2]! : moduleName(m[2]!),
      args: (m[3] ?? '').trim(),
      file,
    });
  }
  const vfioIds = new Set<string>();
  const blacklisted = new Set<string>();
  const vfioSoftdeps = new Set<string>();
  for (const d of directives) {
    if (d.kind === 'options' && d.module === 'vfio_pci') {
      const ids = /(?:^|\s)ids=(\S+)/.exec(d.args);
      for (const id of ids?.[1]?.split(',') ?? [])
        if (id.trim())
          vfioIds.add(
            id
              .trim()
              .toLowerCase()
              .replace(/^(\w{4}:\w{4}).*$/, '$1'),
          );
    }
    if (d.kind === 'blacklist') blacklisted.add(d.module);
    if (d.kind === 'install' && /^\/bin\/(false|true)\b/.test(d.args)) blacklisted.add(d.module);
    const pre = /pre:\s*(.*?)(?:\s+post:|$)/.exec(d.args)?.[1] ?? '';
    if (d.kind === 'softdep' && /\bvfio[-_]pci\b/.test(pre)) vfioSoftdeps.add(d.module);
  }
  return {
    directives,
    vfioIds: [...vfioIds].sort(),
    blacklisted: [...blacklisted].sort(),
    vfioSoftdeps: [...vfioSoftdeps].sort(),
  };
}
