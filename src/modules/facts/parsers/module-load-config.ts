/**
 * Where a host asks for modules early: `/etc/initramfs-tools/modules` (initramfs-tools), `/etc/modules` and
 * `/etc/modules-load.d/*.conf` (systemd, after the root is mounted), `/etc/dracut.conf.d/*.conf`
 * (`add_drivers+=" vfio vfio_pci "`, `force_drivers+=...`). Input is `grep -H` output, `FILE:LINE` per line.
 */
import { moduleName } from './lsmod.js';

export interface ModuleLoadConfig {
  /** Modules the initramfs generator is told to include (initramfs-tools modules file, dracut drivers). */
  initramfs: string[];
  /** Modules loaded at boot from the root filesystem. */
  boot: string[];
  /** Files that were read. */
  files: string[];
}

export function parseModuleLoadConfig(text: string): ModuleLoadConfig {
  const initramfs = new Set<string>();
  const boot = new Set<string>();
  const files = new Set<string>();
  for (const raw of text.split('\n')) {
    const m = /^(\/[^:]+):(.*)$/.exec(raw.replace(/\r$/, ''));
    if (!m) continue;
    const file = m[1]!;
    const line = m[2]!.replace(/#.*$/, '').trim();
    files.add(file);
    if (!line) continue;
    if (/dracut\.conf/.test(file)) {
      const d = /^(?:add_drivers|force_drivers)\s*\+?=\s*["']?([^"']*)["']?/.exec(line);
      for (const w of d?.[1]?.split(/\s+/) ?? []) if (w) initramfs.add(moduleName(w));
      continue;
    }
    const word = line.split(/\s+/)[0]!;
    if (/initramfs-tools\/modules$/.test(file)) initramfs.add(moduleName(word));
    else if (/\/etc\/modules$|modules-load\.d\//.test(file)) boot.add(moduleName(word));
  }
  return { initramfs: [...initramfs].sort(), boot: [...boot].sort(), files: [...files].sort() };
}
