/** Layer 3: each passthrough device's IOMMU group holds only what goes to the guest with it. */
import { argValues } from '../../facts/parsers/cmdline.js';
import { isBridge } from '../../facts/parsers/lspci-nnk.js';
import { cannot, fail, pass, type FindingDraft, type Rule } from '../finding.js';
import { describeDevice, groupOf, isVfio, passthroughDevices } from '../context.js';

/** ACS controls that isolate peer-to-peer traffic below a port. */
const ACS_NEEDED = ['SrcValid', 'ReqRedir', 'CmpltRedir', 'UpstreamFwd'];

export const groupRules: Rule[] = [
  {
    id: 'groups.shared-with-outsiders',
    layer: 'groups',
    severity: 'error',
    title: 'a passthrough device shares its IOMMU group with devices outside the passthrough set',
    guide: 'guide 1, task 4; guide 2, task 6',
    decision:
      "Move the card to another slot or root port, check the firmware's ACS/PCIe settings, or accept that it cannot be passed through; do not override ACS in production without a threat model.",
    evaluate({ snap, desired }) {
      if (!desired.passthroughIds.length) return pass;
      if (snap.pci.status !== 'ok') return cannot(snap.pci.reason);
      if (snap.iommu.groups.status !== 'ok') return cannot(snap.iommu.groups.reason);
      const pci = snap.pci.value;
      const byAddr = new Map(pci.map((d) => [d.address, d]));
      const done = new Set<number | null>();
      return fail(
        ...passthroughDevices(pci, desired).flatMap((d): FindingDraft[] => {
          const g = groupOf(snap, d.address);
          if (!g || done.has(g.id)) return [];
          done.add(g.id);
          const outsiders = g.members
            .map((a) => byAddr.get(a))
            .filter((m) => m && !(m.id && desired.passthroughIds.includes(m.id)) && !isBridge(m));
          if (!outsiders.length) return [];
          const hostOwned = outsiders.filter((m) => m!.driver !== null && !isVfio(m!.driver));
          return [
            {
              message: `IOMMU group ${g.id} of ${d.address} also holds ${outsiders.map((m) => m!.address).join(', ')}`,
              evidence: outsiders.map((m) => `group ${g.id}: ${describeDevice(m!)} (driver ${m!.driver ?? 'none'})`),
              severity: hostOwned.length ? 'error' : 'warning',
              device: d.address,
            },
          ];
        }),
      );
    },
  },
  {
    id: 'groups.acs-missing-upstream',
    layer: 'groups',
    severity: 'warning',
    title: 'a bridge above a passthrough device lacks ACS isolation',
    guide: 'guide 2, task 13',
    decision:
      'Expect devices below that bridge to share a group; move the card to a root port with ACS before reaching for an ACS override.',
    evaluate({ snap, desired }) {
      if (!desired.passthroughIds.length) return pass;
      const caps = snap.pciCapabilities;
      const paths = snap.pciPaths;
      if (caps.status !== 'ok') return cannot(caps.reason);
      if (paths.status !== 'ok') return cannot(paths.reason);
      const byAddr = new Map(caps.value.map((c) => [c.address, c]));
      const bridges = [...new Set(Object.values(paths.value).flat())];
      const denied = bridges.filter((b) => byAddr.get(b)?.accessDenied);
      if (denied.length) return cannot(`lspci could not read the capabilities of ${denied.join(', ')} (not root)`);
      return fail(
        ...bridges.flatMap((b) => {
          const c = byAddr.get(b);
          if (!c || !c.portType || !/Root Port|Downstream Port/.test(c.portType)) return [];
          const off = c.acs ? ACS_NEEDED.filter((f) => !c.acs!.ctl[f]) : ACS_NEEDED;
          if (!off.length) return [];
          return [
            {
              message: `${b} (${c.portType}) ${c.acs ? `has ACS ${off.join(', ')} off` : 'has no ACS capability'}`,
              evidence: c.lines.filter((l) => /ACS|Express/.test(l)).map((l) => `lspci -vv -s ${b}: ${l}`),
              device: b,
            },
          ];
        }),
      );
    },
  },
  {
    id: 'groups.acs-override',
    layer: 'groups',
    severity: 'warning',
    title: 'the ACS override is on the kernel command line',
    guide: 'guide 2, FAQ 2 and mistake 6',
    decision:
      "The override makes the kernel pretend devices are isolated; remove it unless this host's policy (allow_acs_override) accepts the risk.",
    evaluate({ snap, desired }) {
      if (snap.cmdline.status !== 'ok') return cannot(snap.cmdline.reason);
      const v = argValues(snap.cmdline.value, 'pcie_acs_override');
      if (!v.length) return pass;
      return fail({
        message: `pcie_acs_override=${v[v.length - 1] ?? ''} is set`,
        evidence: [`/proc/cmdline: ${snap.cmdline.value.raw}`],
        severity: desired.allowAcsOverride ? 'info' : 'warning',
      });
    },
  },
];
