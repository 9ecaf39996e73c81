/**
 * Loaded modules from `lsmod` (`vfio 53248 2 vfio_pci_core,vfio_iommu_type1`) or `/proc/modules`
 * (`vfio 53248 2 vfio_pci_core,vfio_iommu_type1, Live 0xffff... (OE)`), which also carries each module's taint
 * letters: O out-of-tree, E unsigned, P proprietary, F forced, C staging.
 */

export interface LoadedModule {
  name: string;
  /** Bytes. */
  size: number;
  useCount: number;
  usedBy: string[];
  /** /proc/modules only: `Live`, `Loading`, `Unloading`. */
  state?: string;
  /** /proc/modules only: taint letters, e.g. `OE`. */
  taints?: string;
}

export function parseLsmod(text: string): LoadedModule[] {
  const out: LoadedModule[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || /^Module\s+Size\s+Used by/.test(line)) continue;
    const m = /^(\S+)\s+(\d+)\s+(-?\d+|-)\s*(.*)$/.exec(line);
    if (!m) continue;
    let rest = m[4] ?? '';
    const mod: LoadedModule = {
      name: m[1]!,
      size: Number(m[2]),
      useCount: m[3] === '-' ? 0 : Number(m[3]),
      usedBy: [],
    };
    const proc = /^(\S*)\s+(Live|Loading|Unloading)\s+0x[0-9a-f]+(?:\s+\(([A-Z]+)\))?/.exec(rest);
    if (proc) {
      mod.state = proc[2]!;
      if (proc[3]) mod.taints = proc[3];
      rest = proc[1] === '-' ? '' : (proc[1] ?? '');
    }
    mod.usedBy = rest
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s && s !== '-' && !s.startsWith('['));
    out.push(mod);
  }
  return out;
}

/** Module names are equal with `-` and `_` swapped (`vfio-pci` is `vfio_pci`). */
export function moduleName(name: string): string {
  return name.replace(/-/g, '_');
}
