/**
 * The IOMMU topology picture of one host, laid out (pure): each group a box, each device a row with its class,
 * id and driver (vfio-pci highlighted), and what changed between two snapshots marked (a driver that changed, a
 * device that moved group or appeared), and the libvirt guests each device is assigned to. The template draws the boxes as SVG from these coordinates.
 */
import { valueOf } from '../../modules/facts/known.js';
import type { HostSnapshot } from '../../modules/facts/snapshot.js';

export interface TopologyDevice {
  address: string;
  /** e.g. `VGA compatible controller [10de:1e87]`. */
  text: string;
  driver: string | null;
  vfio: boolean;
  passthrough: boolean;
  /** What changed since the earlier snapshot, e.g. `driver nouveau -> vfio-pci`; null when nothing did. */
  change: string | null;
  /** The libvirt guest(s) this device is assigned to, e.g. `pt (running)`; null when none or guests unknown. */
  guest: string | null;
  y: number;
}

export interface TopologyGroup {
  id: number | null;
  /** Default domain type of the group (`DMA`, `identity` ...), when known. */
  type: string | null;
  devices: TopologyDevice[];
  /** The group holds a device on vfio-pci. */
  vfio: boolean;
  /** The group holds a vfio-pci device together with a device bound to another driver (not isolated). */
  mixed: boolean;
  changed: boolean;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Topology {
  /** Why there is no picture (groups unknown, or none: the IOMMU is off). */
  missing: string | null;
  groups: TopologyGroup[];
  width: number;
  height: number;
  /** Groups of the earlier snapshot that are gone. */
  removed: string[];
  vfioCount: number;
  /** Every device with a change, in group order. */
  changes: Array<{ address: string; change: string }>;
}

const COLS = 3;
const BOX_W = 360;
const GAP = 16;
const HEAD = 24;
const ROW = 20;

function deviceText(snap: HostSnapshot, address: string, fallback: string | undefined): string {
  const pci = valueOf(snap.pci)?.find((d) => d.address === address);
  if (!pci) return fallback ?? '';
  return `${pci.className}${pci.id ? ` [${pci.id}]` : ''}`;
}

function driverOf(snap: HostSnapshot | undefined, address: string): string | null | undefined {
  if (!snap) return undefined;
  const pci = valueOf(snap.pci);
  if (!pci) return undefined;
  return pci.find((d) => d.address === address)?.driver ?? null;
}

/** The guests whose PCI host devices include `address`, with their states. */
function guestsOf(snap: HostSnapshot, address: string): string | null {
  const view = snap.guests ? valueOf(snap.guests) : undefined;
  const holders = (view?.domains ?? []).filter((d) => d.hostdevs.some((h) => h.address === address));
  return holders.length ? holders.map((d) => `${d.name} (${d.state})`).join(', ') : null;
}

function groupOf(snap: HostSnapshot | undefined, address: string): number | null | undefined {
  const groups = snap ? valueOf(snap.iommu.groups) : undefined;
  if (!groups) return undefined;
  return groups.find((g) => g.devices.some((d) => d.address === address))?.id ?? null;
}

/**
 * Lay out `snap`'s groups; with `before`, mark what changed since it. `passthroughIds` (vendor:device) are the
 * devices meant for guests (the host's `passthrough_devices`).
 */
export function layoutTopology(
  snap: HostSnapshot,
  before?: HostSnapshot,
  passthroughIds: readonly string[] = [],
): Topology {
  const groups = snap.iommu.groups;
  const empty = (missing: string): Topology => ({
    missing,
    groups: [],
    width: 0,
    height: 0,
    removed: [],
    vfioCount: 0,
    changes: [],
  });
  if (groups.status !== 'ok') return empty(`IOMMU groups unknown: ${groups.reason}`);
  if (groups.value.length === 0) return empty('no IOMMU groups: the IOMMU is not active on this boot');
  const types = valueOf(snap.iommu.groupTypes) ?? {};
  const laid: TopologyGroup[] = [];
  let rowTop = 0;
  let rowHeight = 0;
  groups.value.forEach((g, i) => {
    const col = i % COLS;
    if (col === 0 && i > 0) {
      rowTop += rowHeight + GAP;
      rowHeight = 0;
    }
    const devices: TopologyDevice[] = g.devices.map((d, j) => {
      const driver = driverOf(snap, d.address) ?? null;
      const pci = valueOf(snap.pci)?.find((p) => p.address === d.address);
      const id = pci?.id ?? d.id ?? null;
      const changes: string[] = [];
      const was = driverOf(before, d.address);
      if (was !== undefined && was !== driver) changes.push(`driver ${was ?? 'none'} -> ${driver ?? 'none'}`);
      const wasGroup = groupOf(before, d.address);
      if (before && wasGroup === null) changes.push('new device');
      else if (wasGroup !== undefined && wasGroup !== g.id) changes.push(`moved from group ${wasGroup}`);
      return {
        address: d.address,
        text: deviceText(snap, d.address, d.description),
        driver,
        vfio: driver === 'vfio-pci',
        passthrough: id !== null && passthroughIds.includes(id),
        change: changes.length ? changes.join('; ') : null,
        guest: guestsOf(snap, d.address),
        y: HEAD + j * ROW,
      };
    });
    const vfio = devices.some((d) => d.vfio);
    const h = HEAD + Math.max(devices.length, 1) * ROW + 6;
    rowHeight = Math.max(rowHeight, h);
    laid.push({
      id: g.id,
      type: g.id !== null ? (types[String(g.id)] ?? null) : null,
      devices,
      vfio,
      // Bridges stay with their own drivers (pcieport) or none; any other driver beside vfio-pci breaks isolation.
      mixed: vfio && devices.some((d) => !d.vfio && d.driver !== null && d.driver !== 'pcieport'),
      changed: devices.some((d) => d.change !== null),
      x: col * (BOX_W + GAP),
      y: rowTop,
      w: BOX_W,
      h,
    });
  });
  const now = new Set(groups.value.map((g) => g.id));
  const removed = (before ? (valueOf(before.iommu.groups) ?? []) : [])
    .filter((g) => !now.has(g.id))
    .map((g) => `group ${g.id ?? '?'} (${g.devices.map((d) => d.address).join(', ')})`);
  return {
    missing: null,
    groups: laid,
    width: Math.min(groups.value.length, COLS) * (BOX_W + GAP) - GAP,
    height: rowTop + rowHeight,
    removed,
    vfioCount: laid.reduce((n, g) => n + g.devices.filter((d) => d.vfio).length, 0),
    changes: laid.flatMap((g) =>
      g.devices.flatMap((d) => (d.change ? [{ address: d.address, change: d.change }] : [])),
    ),
  };
}
