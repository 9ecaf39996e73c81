/**
 * The conclusion a reader wants from a kernel log: is the IOMMU translating DMA (yes / no / unknown), and which
 * lines say so. `unknown` when the log does not settle it (hardware announced but never initialised, a log that
 * starts after boot), never a guess.
 */
import type { DmesgIommu } from './dmesg-iommu.js';
import type { DmaFault } from './dma-faults.js';

export interface IommuVerdict {
  /** yes = the kernel initialised DMA remapping; no = the log says it was turned off or is absent. */
  enabled: 'yes' | 'no' | 'unknown';
  /** One sentence saying why, naming what was (or was not) found. */
  reason: string;
  /** The log lines the conclusion rests on, prefixes removed. */
  evidence: string[];
}

export function concludeIommu(d: DmesgIommu, faults: DmaFault[] = []): IommuVerdict {
  const remapFault = faults.find((f) => f.kind === 'dma');
  const groupLine = d.groupsAdded > 0 ? `${d.groupsAdded} "Adding to iommu group" messages` : null;
  const onEvidence = [d.initLine, d.defaultDomain && d.initLine ? d.defaultDomain.line : null, remapFault?.line]
    .filter((l): l is string => typeof l === 'string')
    .filter((l, i, all) => all.indexOf(l) === i);
  if (d.initLine || remapFault) {
    const evidence = groupLine ? [...onEvidence, groupLine] : onEvidence;
    const mode = d.defaultDomain?.type === 'passthrough' ? ' (host devices in passthrough/identity mode)' : '';
    const reason = d.initLine
      ? `the ${d.vendor ?? 'IOMMU'} driver initialised${mode}`
      : 'a DMA remapping fault was logged, which only an enabled IOMMU reports';
    if (d.disabledLine) evidence.push(d.disabledLine);
    return {
      enabled: 'yes',
      reason: d.disabledLine ? `${reason}; a unit also reported itself disabled` : reason,
      evidence,
    };
  }
  if (d.disabledLine)
    return { enabled: 'no', reason: 'the kernel log says the IOMMU is disabled', evidence: [d.disabledLine] };
  if (d.hardwareLine)
    return {
      enabled: 'unknown',
      reason: 'IOMMU hardware was announced but no line shows it initialised (log cut short, or not enabled)',
      evidence: [d.hardwareLine],
    };
  if (d.defaultDomain)
    return {
      enabled: 'unknown',
      reason: 'only the IOMMU core default-domain line was found; it is printed even without IOMMU hardware',
      evidence: [d.defaultDomain.line],
    };
  return { enabled: 'unknown', reason: 'no IOMMU line found in the log', evidence: [] };
}

/** The verdict as the lines `facts parse dmesg` prints above the details. */
export function describeVerdict(v: IommuVerdict): string[] {
  return [`IOMMU enabled: ${v.enabled} (${v.reason})`, ...v.evidence.map((l) => `  evidence: ${l}`)];
}
