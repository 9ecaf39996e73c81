/**
 * DMA / interrupt-remapping faults from the kernel log, in the formats kernels have used:
 * Intel `DMAR: [DMA Read NO_PASID] Request device [01:00.0] fault addr 0x7f3c0000 [fault reason 0x06] ...`
 * (5.14's `[0x01:0x00.0]` device, `[DMA Write PASID 0x3]` with a PASID, and the older `[DMA Read]`, `PASID ffffffff`, unprefixed hex, and 3.x's reason on a second `DMAR:[fault reason 06]`
 * line), `[INTR-REMAP] ... fault index`, AMD `AMD-Vi: Event logged [IO_PAGE_FAULT device=05:00.0 domain=...
 * address=... flags=...]` and the newer `nvme 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=...]`,
 * ARM SMMU context faults and v3 events.
 */
import { kernelLines } from './log-lines.js';
import { normalizePciAddress } from './pci-address.js';

export interface DmaFault {
  vendor: 'intel' | 'amd' | 'arm-smmu';
  /** dma = a DMA request was blocked; interrupt = an interrupt request was blocked; event = other IOMMU event. */
  kind: 'dma' | 'interrupt' | 'event';
  /** Requesting device, `0000:bb:dd.f`; null when the log does not name one. */
  device: string | null;
  access: 'read' | 'write' | 'unknown';
  /** Faulting address (or interrupt index), `0x...`; null when absent. */
  address: string | null;
  /** The kernel's reason text or event name, e.g. `PTE Read access is not set`, `IO_PAGE_FAULT`. */
  reason: string | null;
  /** Intel fault reason code or AMD flags, as `0x..`. */
  code: string | null;
  stamp?: string;
  line: string;
}

const hex = (s: string | undefined): string | null =>
  s === undefined ? null : `0x${s.replace(/^0x/i, '').toLowerCase()}`;

// `DMAR :` (a space) appears in reports typed by hand; 5.14 printed the device as `[0x04:0x00.0]`.
const INTEL =
  /DMAR\s*:\s*\[(DMA (Read|Write)|INTR-REMAP)[^\]]*\]\s*Request device \[((?:0x)?[0-9a-fA-F]+:(?:0x)?[0-9a-fA-F]+[:.][0-9a-fA-F.]+)\]\s*(?:PASID \S+\s+)?(?:fault addr\s+(?:0x)?([0-9a-fA-F]+)|fault index\s+(?:0x)?([0-9a-fA-F]+))\s*(?:\[fault reason\s+(?:0x)?([0-9a-fA-F]+)\]\s*(.*))?/;
const INTEL_REASON = /DMAR\s*:\s*\[fault reason\s+(?:0x)?([0-9a-fA-F]+)\]\s*(.*)/;
const AMD =
  /(?:^|\s)(?:(\S+) ([0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]): )?AMD-Vi: Event logged \[\s*(\w+)([^\]]*)\]?/;
const SMMU_CTX =
  /arm-smmu.*(?:Unhandled context fault|context fault).*?(?:fsr=(0x[0-9a-f]+)).*?iova=(0x[0-9a-f]+)(?:.*?fsynr=(0x[0-9a-f]+))?/i;
const SMMU3 = /arm-smmu-v3 \S+: event (0x[0-9a-f]+) received/i;
const SMMU3_NAMES: Record<string, string> = {
  '0x10': 'F_TRANSLATION',
  '0x11': 'F_ADDR_SIZE',
  '0x12': 'F_ACCESS',
  '0x13': 'F_PERMISSION',
};

function kv(rest: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of rest.matchAll(/(\w+)=(\S+)/g)) out[m[1]!] = m[2]!.replace(/[\],]+$/, '');
  return out;
}

function amdAccess(flags: string | undefined): DmaFault['access'] {
  if (!flags) return 'unknown';
  const f = parseInt(flags, 16);
  if (Number.isNaN(f) || !(f & 0x10) || f & 0x08) return 'unknown'; // RW is meaningful only for present, non-interrupt requests
  return f & 0x20 ? 'write' : 'read';
}

export function parseDmaFaults(text: string): DmaFault[] {
  const faults: DmaFault[] = [];
  for (const { text: t, stamp } of kernelLines(text)) {
    const at = stamp === undefined ? {} : { stamp };
    const i = INTEL.exec(t);
    if (i) {
      const interrupt = i[1] === 'INTR-REMAP';
      faults.push({
        vendor: 'intel',
        kind: interrupt ? 'interrupt' : 'dma',
        device: normalizePciAddress((i[3] ?? '').replace(/0x/gi, '')),
        access: i[2] === 'Read' ? 'read' : i[2] === 'Write' ? 'write' : 'unknown',
        address: hex(i[4] ?? i[5]),
        reason: i[7]?.trim() || null,
        code: hex(i[6]),
        ...at,
        line: t,
      });
      continue;
    }
    const r = INTEL_REASON.exec(t);
    const prev = faults[faults.length - 1];
    if (r && prev && prev.vendor === 'intel' && prev.code === null) {
      prev.code = hex(r[1]);
      prev.reason = r[2]?.trim() || null;
      prev.line += '\n' + t;
      continue;
    }
    const a = AMD.exec(t);
    if (a) {
      const fields = kv(a[4] ?? '');
      const device = normalizePciAddress(a[2] ?? fields.device ?? '');
      const event = a[3] ?? '';
      faults.push({
        vendor: 'amd',
        kind: event === 'IO_PAGE_FAULT' ? 'dma' : 'event',
        device,
        access: event === 'IO_PAGE_FAULT' ? amdAccess(fields.flags) : 'unknown',
        address: fields.address ? hex(fields.address) : null,
        reason: event || null,
        code: fields.flags ? hex(fields.flags) : null,
        ...at,
        line: t,
      });
      continue;
    }
    const s = SMMU_CTX.exec(t);
    if (s) {
      const fsynr = s[3] ? parseInt(s[3], 16) : NaN;
      faults.push({
        vendor: 'arm-smmu',
        kind: 'dma',
        device: null,
        access: Number.isNaN(fsynr) ? 'unknown' : fsynr & 0x10 ? 'write' : 'read',
        address: hex(s[2]),
        reason: 'context fault',
        code: hex(s[1]),
        ...at,
        line: t,
      });
      continue;
    }
    const e = SMMU3.exec(t);
    if (e) {
      const code = hex(e[1]);
      faults.push({
        vendor: 'arm-smmu',
        kind: 'event',
        device: null,
        access: 'unknown',
        address: null,
        reason: SMMU3_NAMES[code ?? ''] ?? 'event',
        code,
        ...at,
        line: t,
      });
    }
  }
  return faults;
}
