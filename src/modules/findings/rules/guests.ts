/**
 * Layer 5: the hypervisor's view (guide 2, tasks 14-16 and its checklist: "attempt VM start once: gather
 * errors"). Only once the IOMMU, the binding and the groups are right is libvirt worth looking at: whether it
 * can enumerate the devices, which guests hold which device, and which guest failed to start and why.
 */
import { isRunning, type GuestDomain, type GuestsView } from '../../facts/parsers/libvirt.js';
import type { PciDevice } from '../../facts/parsers/lspci-nnk.js';
import type { HostSnapshot } from '../../facts/snapshot.js';
import { cannot, fail, pass, type FindingDraft, type Rule, type RuleOutcome } from '../finding.js';
import { isVfio, lspciLine } from '../context.js';

/** The guests view, or why a rule cannot look (no libvirt on the host is a pass: nothing to check). */
function withGuests(snap: HostSnapshot, check: (g: GuestsView) => RuleOutcome): RuleOutcome {
  const g = snap.guests;
  if (!g) return cannot('this snapshot was taken before rollgate read guests');
  if (g.status !== 'ok') return cannot(g.reason);
  if (!g.value.libvirt) return pass;
  return check(g.value);
}

const stateOf = (d: GuestDomain) => `virsh domstate ${d.name}: ${d.state}${d.reason ? ` (${d.reason})` : ''}`;

export const guestRules: Rule[] = [
  {
    id: 'guests.not-enumerated',
    layer: 'guests',
    severity: 'error',
    title: 'libvirt cannot enumerate a device bound to vfio-pci or assigned to a guest',
    guide: 'guide 2, task 16',
    decision:
      "libvirt's udev/nodedev view is broken or lacks permissions: fix it (restart libvirtd / virtnodedevd, check udev) before changing VFIO ids again.",
    evaluate({ snap }) {
      return withGuests(snap, (g) => {
        const nodeDevices = g.nodeDevices;
        if (nodeDevices === null) return cannot(`virsh nodedev-list failed: ${g.nodeDevicesError ?? 'no output'}`);
        const listed = new Set(nodeDevices);
        const wanted = new Map<string, string>();
        if (snap.pci.status === 'ok')
          for (const d of snap.pci.value) if (isVfio(d.driver)) wanted.set(d.address, lspciLine(d));
        for (const dom of g.domains)
          for (const h of dom.hostdevs)
            if (!wanted.has(h.address)) wanted.set(h.address, `virsh dumpxml ${dom.name}: hostdev ${h.address}`);
        return fail(
          ...[...wanted]
            .filter(([address]) => !listed.has(address))
            .map(([address, line]) => ({
              message: `libvirt does not list ${address} (pci_${address.replace(/[:.]/g, '_')}) among its node devices`,
              evidence: [line, `virsh nodedev-list: ${nodeDevices.length} PCI devices, not this one`],
              device: address,
            })),
        );
      });
    },
  },
  {
    id: 'guests.hostdev-not-vfio',
    layer: 'guests',
    severity: 'error',
    title: "a guest's host device is not bound to vfio-pci (or not on the bus)",
    guide: 'guide 2, tasks 5 and 16',
    decision:
      "Bind the device to vfio-pci (rollgate's vfio_bind) or let libvirt do it at start (<hostdev managed='yes'>); a device gone from the bus needs the hardware checked.",
    evaluate({ snap }) {
      return withGuests(snap, (g) => {
        if (!g.domains.some((d) => d.hostdevs.length)) return pass;
        if (snap.pci.status !== 'ok') return cannot(snap.pci.reason);
        const pci = new Map<string, PciDevice>(snap.pci.value.map((d) => [d.address, d]));
        const out: FindingDraft[] = [];
        for (const dom of g.domains)
          for (const h of dom.hostdevs) {
            const dev = pci.get(h.address);
            const hostdev = `virsh dumpxml ${dom.name}: <hostdev managed='${h.managed ? 'yes' : 'no'}'> ${h.address}`;
            if (!dev) {
              out.push({
                message: `guest ${dom.name}'s host device ${h.address} is not on the PCI bus`,
                evidence: [hostdev, stateOf(dom)],
                device: h.address,
                severity: isRunning(dom) ? 'error' : 'warning',
              });
              continue;
            }
            if (isVfio(dev.driver)) continue;
            if (isRunning(dom))
              out.push({
                message: `running guest ${dom.name} has ${h.address}, which is driven by ${dev.driver ?? 'no driver'}, not vfio-pci`,
                evidence: [hostdev, lspciLine(dev), stateOf(dom)],
                device: h.address,
              });
            else if (!h.managed)
              out.push({
                message: `guest ${dom.name} will not start: its unmanaged host device ${h.address} is driven by ${dev.driver ?? 'no driver'}, not vfio-pci`,
                evidence: [hostdev, lspciLine(dev), stateOf(dom)],
                device: h.address,
                severity: 'warning',
              });
          }
        return fail(...out);
      });
    },
  },
  {
    id: 'guests.holds-device',
    layer: 'guests',
    severity: 'info',
    title: 'a running guest holds a host device (it cannot live-migrate; a reboot stops it)',
    guide: 'guide 2, checklist (re-check VFIO binding and guest functionality)',
    decision:
      'Before a reboot, shut the guest down (or let the rollout drain it); after the boot, start it again and check it sees the device.',
    evaluate({ snap }) {
      return withGuests(snap, (g) =>
        fail(
          ...g.domains.filter(isRunning).flatMap((dom) =>
            dom.hostdevs.map((h) => ({
              message: `running guest ${dom.name} holds ${h.address}`,
              evidence: [
                stateOf(dom),
                `virsh dumpxml ${dom.name}: hostdev ${h.address}`,
                ...g.vfioHolders.map((v) => `/dev/vfio/${v.group} held open by ${v.comm} (pid ${v.pid})`),
              ],
              device: h.address,
            })),
          ),
        ),
      );
    },
  },
  {
    id: 'guests.start-failed',
    layer: 'guests',
    severity: 'warning',
    title: 'a guest failed to start or crashed',
    guide: 'guide 2, task 14 and checklist ("attempt VM start once: gather errors")',
    decision:
      "Read its error (below: its QEMU log, or libvirt's journal when QEMU never ran) and check for DMA faults at that time; do not loop start attempts: that hides reset problems.",
    evaluate({ snap }) {
      return withGuests(snap, (g) =>
        fail(
          ...g.domains
            .filter((d) => d.state === 'crashed' || d.reason === 'failed' || d.reason === 'crashed')
            .map((dom) => ({
              message: `guest ${dom.name} ${dom.state === 'crashed' ? 'crashed' : 'failed to start'}`,
              evidence: [stateOf(dom), ...(dom.lastError ? [dom.lastError] : [])],
            })),
        ),
      );
    },
  },
];
