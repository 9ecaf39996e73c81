/**
 * What the kernel log says about the IOMMU: which one (Intel DMAR, AMD-Vi, ARM SMMU), whether it came up or was
 * turned off, the default domain and flush policy, interrupt remapping, and vfio binding messages.
 * Traps handled: Intel kernels print `AMD-Vi: AMD IOMMUv2 functionality not available` (not an AMD IOMMU), and an
 * `ACPI: DMAR` table line only says the firmware has the table, not that the IOMMU is on.
 */
import { kernelLines } from './log-lines.js';
import { normalizePciAddress } from './pci-address.js';

export type IommuVendor = 'intel' | 'amd' | 'arm-smmu' | 'virtio';
/** translated = DMA API through IOMMU page tables, strict flushing; lazy = translated with a flush queue. */
export type DomainType = 'translated' | 'passthrough' | 'lazy';

export interface DmesgIommu {
  /** Vendor of the IOMMU that announced itself; null when none did. */
  vendor: IommuVendor | null;
  /** A line showing the IOMMU initialised (groups added, default domain chosen, DMAR enabled, AMD-Vi found). */
  initLine: string | null;
  /** A line showing IOMMU hardware was found (DMAR units, `AMD-Vi: Found IOMMU`); not proof it translates. */
  hardwareLine: string | null;
  /** A line saying the IOMMU was turned off (intel_iommu=off, iommu=off, no IOMMU in firmware...). */
  disabledLine: string | null;
  /** `iommu: Default domain type: ...` (or AMD's old `Initialized for Passthrough Mode`). */
  defaultDomain: { type: 'translated' | 'passthrough'; setViaCmdline: boolean; line: string } | null;
  /** TLB invalidation policy for translated domains. */
  flushPolicy: { mode: 'strict' | 'lazy'; line: string } | null;
  interruptRemapping: { state: 'enabled' | 'disabled'; mode: 'x2apic' | 'xapic' | null; line: string } | null;
  /** Number of `Adding to iommu group` messages (4.x: `iommu: Adding device X to group N`). */
  groupsAdded: number;
  /**
   * Group membership the kernel announced, group number ascending: `pci 0000:00:01.0: Adding to iommu group 0`
   * (4.x: `iommu: Adding device 0000:00:01.0 to group 0`), less later `Removing from iommu group` messages.
   * Devices are `0000:bb:dd.f` for PCI, the kernel's device name otherwise.
   */
  groups: Array<{ id: number; devices: string[] }>;
  /** vfio-pci messages (`vfio-pci 0000:01:00.0: enabling device ...`). */
  vfioLines: string[];
  /** Every IOMMU-related line (group additions left out), prefixes removed, at most 200. */
  lines: string[];
}

const RELEVANT =
  /DMAR|IOMMU|AMD-Vi|SMMU|remapping|x2apic|vfio|Default domain|invalidation policy|swiotlb|software IO TLB/i;
const NOT_AMD = /AMD IOMMUv2 (functionality not available|driver by)/i;

function vendorOf(text: string): IommuVendor | null {
  if (/^ACPI:\s+DMAR\b/.test(text)) return null;
  if (/\b(DMAR|dmar)(-IR)?:|Intel\(R\) Virtualization Technology for Directed I\/O/.test(text)) return 'intel';
  if (NOT_AMD.test(text)) return null;
  if (/AMD-Vi:|perf\/amd_iommu: Detected|amd_iommu/.test(text)) return 'amd';
  if (/arm-smmu/.test(text)) return 'arm-smmu';
  if (/virtio[-_]iommu/.test(text)) return 'virtio';
  return null;
}

// 5.x+: dev_info `<driver> <device>: Adding to iommu group N`; 4.x: pr_info `iommu: Adding device <device> to group N`.
const GROUP_ADD = /^(?:\S+ (\S+): Adding to iommu group (\d+)|iommu: Adding device (\S+) to group (\d+))/;
const GROUP_REMOVE = /^(?:\S+ (\S+): Removing from iommu group (\d+)|iommu: Removing device (\S+) from group (\d+))/;

function groupEvent(re: RegExp, t: string): { device: string; id: number } | null {
  const m = re.exec(t);
  if (!m) return null;
  const device = m[1] ?? m[3] ?? '';
  return { device: normalizePciAddress(device) ?? device, id: Number(m[2] ?? m[4]) };
}

const INIT = [
  /Adding to iommu group \d+|iommu: Adding device \S+ to group \d+/,
  /DMAR: IOMMU enabled/,
  /AMD-Vi: Found IOMMU|Found IOMMU at|AMD-Vi: Enabling IOMMU/,
  /AMD-Vi: Initialized for/,
  /arm-smmu.*(probing hardware configuration|ias \d+-bit)/,
];
const HARDWARE =
  /(DMAR|dmar)\d*: (IOMMU \d+: reg_base_addr|DRHD base|dmar\d+: reg_base_addr)|AMD-Vi: (Found IOMMU|Enabling IOMMU)|Found IOMMU at|arm-smmu.*probing hardware/;
const DISABLED = [
  /\bIOMMU (is )?disabled\b/i,
  /AMD-Vi: (AMD IOMMU )?disabled|AMD-Vi: Disabling IOMMU/i,
  /DMAR: (Intel-IOMMU|IOMMU) not (enabled|supported)/i,
  /No IOMMU found|IOMMU not found/i,
];

function remapping(text: string): DmesgIommu['interruptRemapping'] {
  const mode = /x2apic/i.test(text) ? 'x2apic' : /xapic/i.test(text) ? 'xapic' : null;
  if (/Enabled IRQ remapping|Interrupt remapping enabled|IRQ remapping enabled/i.test(text))
    return { state: 'enabled', mode, line: text };
  if (
    /No interrupt remapping support|(IRQ|interrupt) remapping.*(disabled|not (enabled|supported|available))|(disabl|fail)\w* .*(IRQ|interrupt) remapping/i.test(
      text,
    )
  )
    return { state: 'disabled', mode: null, line: text };
  return null;
}

export function parseDmesgIommu(text: string): DmesgIommu {
  const out: DmesgIommu = {
    vendor: null,
    initLine: null,
    hardwareLine: null,
    disabledLine: null,
    defaultDomain: null,
    flushPolicy: null,
    interruptRemapping: null,
    groupsAdded: 0,
    groups: [],
    vfioLines: [],
    lines: [],
  };
  const members = new Map<number, Set<string>>();
  for (const { text: t } of kernelLines(text)) {
    if (!RELEVANT.test(t)) continue;
    const added = groupEvent(GROUP_ADD, t);
    const removed = groupEvent(GROUP_REMOVE, t);
    if (added) {
      out.groupsAdded++;
      members.set(added.id, (members.get(added.id) ?? new Set()).add(added.device));
    } else if (removed) members.get(removed.id)?.delete(removed.device);
    if (!added && out.lines.length < 200) out.lines.push(t);
    out.vendor ??= vendorOf(t);
    if (!out.initLine && INIT.some((r) => r.test(t)) && !NOT_AMD.test(t)) out.initLine = t;
    if (!out.hardwareLine && HARDWARE.test(t)) out.hardwareLine = t;
    if (!out.disabledLine && DISABLED.some((r) => r.test(t))) out.disabledLine = t;
    const dd = /Default domain type:\s*(\w+)/i.exec(t);
    if (dd) {
      const type = /^pass/i.test(dd[1] ?? '') || /^identity/i.test(dd[1] ?? '') ? 'passthrough' : 'translated';
      out.defaultDomain = { type, setViaCmdline: /command line/i.test(t), line: t };
    } else if (/Initialized for Passthrough Mode/i.test(t)) {
      out.defaultDomain = { type: 'passthrough', setViaCmdline: false, line: t };
    }
    if (/invalidation policy:\s*lazy|Lazy IO\/TLB flushing enabled/i.test(t))
      out.flushPolicy = { mode: 'lazy', line: t };
    else if (/invalidation policy:\s*strict|Using strict mode|strict mode/i.test(t) && /iommu|AMD-Vi|DMAR/i.test(t))
      out.flushPolicy = { mode: 'strict', line: t };
    // Intel under a hypervisor (caching mode): the driver forces strict flushing after the core printed "lazy".
    else if (/DMAR: IOMMU batching disallowed due to virtualization/.test(t))
      out.flushPolicy = { mode: 'strict', line: t };
    const ir = remapping(t);
    // Once a line says remapping is off, a later enable line of another unit does not hide it.
    if (ir && (ir.state === 'disabled' || out.interruptRemapping?.state !== 'disabled')) out.interruptRemapping = ir;
    if (/^vfio[-_]pci \S+:|^vfio\b|vfio_iommu_type1|^VFIO - User Level meta-driver/.test(t)) out.vfioLines.push(t);
  }
  out.groups = [...members]
    .filter(([, devices]) => devices.size > 0)
    .sort(([a], [b]) => a - b)
    .map(([id, devices]) => ({ id, devices: [...devices].sort() }));
  return out;
}

/** The effective default domain from dmesg alone: translated + lazy flushing reads as lazy. */
export function dmesgDomain(d: DmesgIommu): DomainType | null {
  if (!d.defaultDomain) return null;
  if (d.defaultDomain.type === 'passthrough') return 'passthrough';
  return d.flushPolicy?.mode === 'lazy' ? 'lazy' : 'translated';
}
