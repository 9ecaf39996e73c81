/**
 * Conclusions drawn from several sources, each with its evidence. Order of trust: what sysfs shows now (groups
 * and their types) over module parameters over the kernel log, because the log may have rotated and sysfs is
 * the state the kernel is in. See LAB-NOTES: Debian enables the Intel IOMMU without `intel_iommu=on`, so a
 * missing argument proves nothing; Intel hosts print an `AMD-Vi` notice that is not an AMD IOMMU.
 */
import { known, unknown, type Known } from './known.js';
import type { Derived, IommuFacts } from './snapshot.js';
import type { DmesgIommu, DomainType, IommuVendor } from './parsers/dmesg-iommu.js';
import { dmesgDomain } from './parsers/dmesg-iommu.js';
import { domainFromWord } from './parsers/iommu-params.js';
import type { IommuGroup } from './parsers/iommu-groups.js';
import type { Interrupts } from './parsers/interrupts.js';
import { usesRemapping } from './parsers/interrupts.js';
import type { CpuInfo } from './parsers/cpuinfo.js';

/** The kernel log as read, and whether its boot messages are still in it (the ring buffer may have rotated). */
export interface LogView {
  log: Known<DmesgIommu>;
  hasBootMessages: boolean;
}

function d<T>(value: T, evidence: string[]): Known<Derived<T>> {
  return known({ value, evidence });
}

export function deriveVendor(
  v: LogView,
  groups: Known<IommuGroup[]>,
  cpu: Known<CpuInfo>,
): Known<Derived<IommuVendor | 'none'>> {
  if (v.log.status === 'ok' && v.log.value.vendor) {
    const line = v.log.value.initLine ?? v.log.value.hardwareLine ?? v.log.value.lines[0] ?? '';
    return d(v.log.value.vendor, [`dmesg: ${line}`]);
  }
  const haveGroups = groups.status === 'ok' && groups.value.length > 0;
  if (haveGroups && cpu.status === 'ok' && cpu.value.vendor) {
    const vendor = cpu.value.vendor === 'GenuineIntel' ? 'intel' : cpu.value.vendor === 'AuthenticAMD' ? 'amd' : null;
    if (vendor) return d(vendor, [`${groups.value.length} IOMMU groups exist`, `CPU vendor ${cpu.value.vendor}`]);
  }
  if (v.log.status === 'ok' && v.hasBootMessages && !haveGroups)
    return d('none', ['no DMAR, AMD-Vi or SMMU line in the kernel log since boot']);
  if (v.log.status === 'unknown') return unknown(`kernel log unreadable: ${v.log.reason}`);
  return unknown('the kernel log no longer holds the boot messages and no IOMMU group names the vendor');
}

export function deriveActive(v: LogView, groups: Known<IommuGroup[]>): Known<Derived<boolean>> {
  const log = v.log.status === 'ok' ? v.log.value : null;
  const logEvidence = [log?.disabledLine, log?.initLine].filter((l): l is string => !!l).map((l) => `dmesg: ${l}`);
  if (groups.status === 'ok') {
    if (groups.value.length)
      return d(true, [`${groups.value.length} IOMMU groups in /sys/kernel/iommu_groups`, ...logEvidence]);
    return d(false, ['/sys/kernel/iommu_groups is empty', ...logEvidence]);
  }
  if (log?.disabledLine) return d(false, logEvidence);
  if (log?.initLine) return d(true, logEvidence);
  if (log && v.hasBootMessages) return d(false, ['no IOMMU initialisation line in the kernel log since boot']);
  return unknown(groups.reason);
}

const GROUP_TYPE: Record<string, DomainType> = { identity: 'passthrough', DMA: 'translated', 'DMA-FQ': 'lazy' };

export function deriveDefaultDomain(
  active: Known<Derived<boolean>>,
  groupTypes: Known<Record<string, string>>,
  params: Known<Record<string, string>>,
  v: LogView,
): Known<Derived<DomainType>> {
  if (active.status === 'ok' && !active.value.value)
    return unknown('no IOMMU is active, so there is no default domain');
  if (groupTypes.status === 'ok' && Object.keys(groupTypes.value).length) {
    const counts = new Map<string, number>();
    for (const t of Object.values(groupTypes.value)) counts.set(t, (counts.get(t) ?? 0) + 1);
    const ranked = [...counts].filter(([t]) => GROUP_TYPE[t]).sort((a, b) => b[1] - a[1]);
    const top = ranked[0];
    if (top)
      return d(GROUP_TYPE[top[0]]!, [
        `/sys/kernel/iommu_groups/*/type: ${[...counts].map(([t, n]) => `${n} × ${t}`).join(', ')}`,
      ]);
  }
  if (params.status === 'ok') {
    const p = params.value;
    const word =
      p.default_domain ??
      (p.passthrough !== undefined ? (p.passthrough === '1' || p.passthrough === 'Y' ? 'pt' : 'DMA') : undefined);
    const dom = word ? domainFromWord(word) : null;
    if (dom)
      return d(dom, [
        `/sys/module/iommu/parameters: ${Object.entries(p)
          .map(([k, x]) => `${k}=${x}`)
          .join(' ')}`,
      ]);
  }
  if (v.log.status === 'ok') {
    const dom = dmesgDomain(v.log.value);
    if (dom)
      return d(
        dom,
        [v.log.value.defaultDomain!.line, v.log.value.flushPolicy?.line]
          .filter((l): l is string => !!l)
          .map((l) => `dmesg: ${l}`),
      );
  }
  return unknown(
    'neither /sys/kernel/iommu_groups/*/type, /sys/module/iommu/parameters nor the kernel log shows the default domain',
  );
}

export function deriveInterruptRemapping(v: LogView, interrupts: Known<Interrupts>): IommuFacts['interruptRemapping'] {
  if (v.log.status === 'ok' && v.log.value.interruptRemapping) {
    const ir = v.log.value.interruptRemapping;
    return d({ enabled: ir.state === 'enabled', mode: ir.mode }, [`dmesg: ${ir.line}`]);
  }
  if (interrupts.status === 'ok') {
    const r = usesRemapping(interrupts.value);
    if (r !== null)
      return d({ enabled: r, mode: null }, [
        r
          ? '/proc/interrupts: MSI/IO-APIC chips are IR-* (remapped)'
          : '/proc/interrupts: MSI/IO-APIC chips are not IR-* (not remapped)',
      ]);
  }
  return unknown('neither the kernel log nor /proc/interrupts shows interrupt remapping');
}
