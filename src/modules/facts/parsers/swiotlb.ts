/**
 * Bounce buffering (SWIOTLB) from the kernel log (`software IO TLB: mapped [mem ...] (64MB)`, `swiotlb buffer
 * is full`, `PCI-DMA: Using software bounce buffering`) and, when debugfs is readable, its counters
 * (`/sys/kernel/debug/swiotlb/io_tlb_used:123`).
 */
import { kernelLines } from './log-lines.js';

export interface Swiotlb {
  /** Size of the pool mapped at boot, MiB; null when the log did not say. */
  mappedMb: number | null;
  /** `swiotlb buffer is full` / `overflow` messages: devices ran out of bounce buffers. */
  fullEvents: number;
  /** debugfs counters (slabs of 2 KiB), when readable. */
  slabs: { total: number; used: number; hiwater: number | null } | null;
  lines: string[];
}

export function parseSwiotlb(dmesg: string, debugfs = ''): Swiotlb {
  const out: Swiotlb = { mappedMb: null, fullEvents: 0, slabs: null, lines: [] };
  for (const { text } of kernelLines(dmesg)) {
    if (!/swiotlb|software IO TLB|bounce buffering/i.test(text)) continue;
    if (out.lines.length < 20) out.lines.push(text);
    const mb = /software IO TLB: mapped .*\((\d+)MB\)/.exec(text);
    if (mb) out.mappedMb = Number(mb[1]);
    if (/swiotlb buffer is full|swiotlb.*overflow/i.test(text)) out.fullEvents++;
  }
  const v: Record<string, number> = {};
  for (const m of debugfs.matchAll(/swiotlb\/(io_tlb_\w+):\s*(\d+)/g)) v[m[1]!] = Number(m[2]);
  if (v.io_tlb_nslabs !== undefined && v.io_tlb_used !== undefined) {
    out.slabs = { total: v.io_tlb_nslabs, used: v.io_tlb_used, hiwater: v.io_tlb_used_hiwater ?? null };
  }
  return out;
}
