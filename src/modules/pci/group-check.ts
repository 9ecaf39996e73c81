/**
 * Which devices a vfio binding takes, and whether that is safe: vfio-pci can only hand a whole IOMMU group to a
 * VM, so every non-bridge member of each group must be named by the play (by id) or explicitly allowed. Pure.
 */
import { isBridge, type PciDevice } from './pci-devices.js';

export interface BindPlan {
  /** Every device whose id the play names (vfio-pci ids= takes them all). */
  devices: PciDevice[];
  /** Group number -> member addresses, for the report. */
  groups: Record<string, string[]>;
  /** Why the binding is refused; empty when it may go ahead. */
  problems: string[];
}

const describeDevice = (d: PciDevice): string =>
  `${d.addr} [${d.id}] class ${d.cls}${d.driver ? ` (driver ${d.driver})` : ''}`;

export function planBinding(
  all: readonly PciDevice[],
  ids: readonly string[],
  allowMembers: readonly string[] = [],
): BindPlan {
  const wanted = new Set(ids.map((i) => i.toLowerCase()));
  const allowed = new Set(allowMembers.map((a) => a.toLowerCase()));
  const devices = all.filter((d) => wanted.has(d.id));
  const problems: string[] = [];
  for (const id of wanted) {
    if (!devices.some((d) => d.id === id)) problems.push(`no PCI device with id ${id} on this host`);
  }
  const groups: Record<string, string[]> = {};
  for (const d of devices) {
    if (d.group === null) {
      problems.push(`${d.addr} has no IOMMU group: the IOMMU is off (enable it with kernel_args and reboot first)`);
      continue;
    }
    if (groups[d.group]) continue;
    const members = all.filter((m) => m.group === d.group);
    groups[d.group] = members.map((m) => m.addr);
    const strangers = members.filter((m) => !wanted.has(m.id) && !isBridge(m) && !allowed.has(m.addr));
    if (strangers.length) {
      problems.push(
        `IOMMU group ${d.group} of ${d.addr} also holds ${strangers.map(describeDevice).join(', ')}; ` +
          `name ${strangers.length === 1 ? 'its id' : 'their ids'} in ids to pass the whole group, or list ${strangers.length === 1 ? 'it' : 'them'} in allow_group_members`,
      );
    }
  }
  return { devices, groups, problems };
}
