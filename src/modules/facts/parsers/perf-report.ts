/**
 * Hot symbols from `perf report --stdio --no-children --sort sym` or a pasted `perf top` screen
 * (`  5.21%  [kernel]  [k] iommu_map`). The IOMMU/DMA mapping share is what the first guide's iommu=pt decision
 * rests on.
 */

export interface PerfSymbol {
  /** Self overhead, percent of samples. */
  pct: number;
  symbol: string;
}

export interface PerfProfile {
  samples: number | null;
  symbols: PerfSymbol[];
  /** Sum of the IOMMU/DMA map, unmap and invalidation symbols, percent. */
  mappingPct: number;
  mappingSymbols: PerfSymbol[];
}

const MAPPING =
  /iommu_(map|unmap)|(^|_)dma_(map|unmap)|iommu_dma_|intel_iommu_|amd_iommu_(map|unmap)|__iommu_|iova|qi_(flush|submit)|iotlb|flush_iotlb|invalidat|swiotlb|domain_unmap|dma_pte/;

export function isMappingSymbol(symbol: string): boolean {
  return MAPPING.test(symbol);
}

export function parsePerfReport(text: string): PerfProfile {
  const symbols: PerfSymbol[] = [];
  let samples: number | null = null;
  for (const raw of text.split('\n')) {
    const s = /Samples:\s*([\d.]+)([KMG]?)/.exec(raw);
    if (s && samples === null) samples = Math.round(Number(s[1]) * ({ K: 1e3, M: 1e6, G: 1e9 }[s[2] ?? ''] ?? 1));
    const m = /^\s*(?:[\d.]+%\s+)?([\d.]+)%\s+.*?\[[k.]\]\s+(\S+)/.exec(raw);
    if (m) symbols.push({ pct: Number(m[1]), symbol: m[2]! });
  }
  const mappingSymbols = symbols.filter((s) => isMappingSymbol(s.symbol));
  const mappingPct = Math.round(mappingSymbols.reduce((a, s) => a + s.pct, 0) * 100) / 100;
  return { samples, symbols: symbols.slice(0, 50), mappingPct, mappingSymbols };
}
