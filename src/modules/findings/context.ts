/** Small lookups over a snapshot that several rules share. */
import type { HostSnapshot } from '../facts/snapshot.js';
import type { PciDevice } from '../facts/parsers/lspci-nnk.js';
import { pciSlot } from '../facts/parsers/pci-address.js';
import { moduleName } from '../facts/parsers/lsmod.js';
import type { DesiredState } from './desired.js';

export function describeDevice(d: PciDevice): string {
  return `${d.address} ${d.className}${d.id ? ` [${d.id}]` : ''}: ${d.description}`;
}

export function lspciLine(d: PciDevice): string {
  return `lspci: ${d.address} [${d.id ?? '?'}] driver ${d.driver ?? '(none)'}${d.modules.length ? `, modules ${d.modules.join(', ')}` : ''}`;
}

/** Devices of the passthrough set present on the host. */
export function passthroughDevices(pci: PciDevice[], desired: DesiredState): PciDevice[] {
  return pci.filter((d) => d.id && desired.passthroughIds.includes(d.id));
}

/** Other functions in the same slot as a passthrough device (GPU audio next to the GPU). */
export function companions(pci: PciDevice[], device: PciDevice): PciDevice[] {
  return pci.filter((d) => d.address !== device.address && pciSlot(d.address) === pciSlot(device.address));
}

export function isVfio(driver: string | null): boolean {
  return driver !== null && moduleName(driver) === 'vfio_pci';
}

/** Modules loaded or built into the running kernel. */
export function availableModules(snap: HostSnapshot): Set<string> | null {
  if (snap.modules.loaded.status !== 'ok') return null;
  const s = new Set(snap.modules.loaded.value.map((m) => moduleName(m.name)));
  if (snap.modules.builtin.status === 'ok') for (const m of snap.modules.builtin.value) s.add(m);
  return s;
}

export function groupOf(snap: HostSnapshot, address: string): { id: number | null; members: string[] } | null {
  if (snap.iommu.groups.status !== 'ok') return null;
  const g = snap.iommu.groups.value.find((x) => x.devices.some((d) => d.address === address));
  return g ? { id: g.id, members: g.devices.map((d) => d.address) } : null;
}
