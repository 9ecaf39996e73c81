/** PCI addresses as tools print them: `3b:00.0`, `0000:3b:00.0`, `pci_0000_3b_00_0` (libvirt). */

const ADDRESS = /^(?:([0-9a-fA-F]{4,}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/;

/** `3b:00.0` -> `0000:3b:00.0`; null when the text is not a PCI address. */
export function normalizePciAddress(text: string): string | null {
  const t = text.trim().replace(/^pci_([0-9a-f]{4})_([0-9a-f]{2})_([0-9a-f]{2})_([0-7])$/i, '$1:$2:$3.$4');
  const m = ADDRESS.exec(t);
  if (!m) return null;
  return `${(m[1] ?? '0000').toLowerCase().padStart(4, '0')}:${m[2]!.toLowerCase()}:${m[3]!.toLowerCase()}.${m[4]}`;
}

/** The slot of an address (`0000:01:00.1` -> `0000:01:00`): functions of one device share it. */
export function pciSlot(address: string): string {
  return address.replace(/\.[0-7]$/, '');
}

/** A `vendor:device` id in lower case (`10DE:1E87` -> `10de:1e87`), null when malformed. */
export function normalizeDeviceId(text: string): string | null {
  const m = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$/.exec(text.trim());
  return m ? `${m[1]!.toLowerCase()}:${m[2]!.toLowerCase()}` : null;
}

/** `0000:01:00.0 /sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0` -> { '0000:01:00.0': ['0000:00:01.0'] }. */
export function parsePciPaths(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of text.split('\n')) {
    const [addr, path] = line.trim().split(/\s+/);
    if (!addr || !path) continue;
    out[addr] = path.split('/').filter((p) => /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(p) && p !== addr);
  }
  return out;
}
