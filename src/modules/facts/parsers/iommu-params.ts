/**
 * `/sys/module/iommu/parameters/*` as `grep -H . ...` prints them (`.../parameters/default_domain:pt`). Many
 * kernels (Debian 12's among them) have no such directory. A bare value (`cat .../default_domain`, as the
 * first guide shows) is read as `default_domain`.
 */
import type { DomainType } from './dmesg-iommu.js';

export function parseIommuParams(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  for (const line of lines) {
    const m = /parameters\/([\w-]+):(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  if (!Object.keys(out).length && lines.length === 1 && !lines[0]!.includes('/')) out.default_domain = lines[0]!;
  return out;
}

/** A default-domain word from any source: `pt`, `identity`, `Passthrough`, `DMA`, `DMA-FQ`, `lazy`, ... */
export function domainFromWord(word: string): DomainType | null {
  const w = word.trim().toLowerCase();
  if (/^(pt|passthrough|identity|1)$/.test(w)) return 'passthrough';
  if (/^(dma-fq|lazy)$/.test(w)) return 'lazy';
  if (/^(dma|translated|strict|nopt|0)$/.test(w)) return 'translated';
  return null;
}
