/**
 * Which kernel modules an initramfs holds, from `lsinitramfs IMAGE` (one path per line) or dracut's `lsinitrd`
 * (a header with `Image:` and `Version:`, then `ls -l` style lines). Only `.ko` files count; `vfio-pci.ko.zst`
 * becomes `vfio_pci`.
 */
import { moduleName } from './lsmod.js';

export interface InitramfsContents {
  tool: 'lsinitramfs' | 'lsinitrd';
  /** Image path when the output named it. */
  image: string | null;
  /** Module names (underscored), sorted, unique. */
  modules: string[];
  /** Kernel release the modules are for, from their path. */
  kernel: string | null;
}

export function parseInitramfsList(text: string): InitramfsContents {
  let tool: InitramfsContents['tool'] = 'lsinitramfs';
  let image: string | null = null;
  let kernel: string | null = null;
  const modules = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const img = /^(Image:|# image)\s*(\S+?):?(?:\s|$)/.exec(line);
    if (img) {
      image = img[2]!;
      if (img[1] === 'Image:') tool = 'lsinitrd';
      continue;
    }
    if (/^(Version|Arguments|dracut modules):/.test(line) || /^={5,}/.test(line)) {
      tool = 'lsinitrd';
      continue;
    }
    if (/^[-dlcbps][rwxsStT-]{9}/.test(line)) tool = 'lsinitrd';
    const path = line.split(/\s+/).pop() ?? '';
    const m = /(?:^|\/)lib\/modules\/([^/]+)\/.*\/([^/]+)\.ko(?:\.(?:xz|zst|gz|bz2))?$/.exec(path);
    if (!m) continue;
    kernel ??= m[1]!;
    modules.add(moduleName(m[2]!));
  }
  return { tool, image, modules: [...modules].sort(), kernel };
}

/** `modules.builtin` lines (`kernel/drivers/vfio/vfio.ko`) -> module names. */
export function parseModulesBuiltin(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/([^/\s]+)\.ko\b/g)) out.add(moduleName(m[1]!));
  return [...out].sort();
}
