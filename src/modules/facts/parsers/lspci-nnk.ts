/**
 * `lspci -nnk` (also `-Dnnk`, `-nn`, `-k`): one block per function. Detail lines may be indented with a tab,
 * spaces, or (pasted) not at all; they are recognised by their labels, the device lines by their address.
 */
import { normalizePciAddress } from './pci-address.js';

export interface PciDevice {
  /** `0000:01:00.0` */
  address: string;
  /** e.g. `VGA compatible controller` */
  className: string;
  /** e.g. `0300`; null without -nn */
  classCode: string | null;
  /** Vendor and device names as printed. */
  description: string;
  /** `10de:1e87`; null without -nn */
  id: string | null;
  revision: string | null;
  subsystem: { description: string; id: string | null } | null;
  /** `Kernel driver in use`; null when no driver is bound */
  driver: string | null;
  /** `Kernel modules` that could drive it */
  modules: string[];
}

const DEVICE_LINE = /^((?:[0-9a-fA-F]{4,}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])\s+(.*)$/;
const DETAIL =
  /^\s*(Subsystem|Kernel driver in use|Kernel modules|DeviceName|Physical Slot|Flags|Control|Status|Latency|Interrupt|Region|Capabilities|Expansion ROM|IOMMU group|NUMA node|Memory behind bridge|Prefetchable memory behind bridge|I\/O behind bridge|Bus|Secondary status|BridgeCtl|Kernel driver)\s*:\s*(.*)$/;
const ID = /\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]/g;

function lastId(text: string): { id: string | null; rest: string } {
  const all = [...text.matchAll(ID)];
  const m = all[all.length - 1];
  if (!m) return { id: null, rest: text.trim() };
  return {
    id: `${m[1]!.toLowerCase()}:${m[2]!.toLowerCase()}`,
    rest: (text.slice(0, m.index) + text.slice(m.index! + m[0].length)).trim(),
  };
}

/** Parse the text after the address: `VGA compatible controller [0300]: NVIDIA ... [10de:1e87] (rev a1)`. */
function parseHead(address: string, rest: string): PciDevice {
  const colon = rest.indexOf(': ');
  let classPart = colon >= 0 ? rest.slice(0, colon) : rest;
  let body = colon >= 0 ? rest.slice(colon + 2) : '';
  const code = /\s*\[([0-9a-fA-F]{4})\]$/.exec(classPart);
  if (code) classPart = classPart.slice(0, code.index);
  const rev = /\s*\(rev ([0-9a-fA-F]+)\)/.exec(body);
  if (rev) body = body.slice(0, rev.index) + body.slice(rev.index + rev[0].length);
  body = body.replace(/\s*\(prog-if [^)]*\]?\)?\s*$/, '');
  const { id, rest: description } = lastId(body);
  return {
    address,
    className: classPart.trim(),
    classCode: code ? code[1]!.toLowerCase() : null,
    description,
    id,
    revision: rev ? rev[1]!.toLowerCase() : null,
    subsystem: null,
    driver: null,
    modules: [],
  };
}

export function parseLspciNnk(text: string): PciDevice[] {
  const devices: PciDevice[] = [];
  let cur: PciDevice | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').replace(/^\d+:(?=\s)/, ''); // grep -n prefixes
    if (line.trim() === '') continue;
    const dev = DEVICE_LINE.exec(line.trimStart());
    const addr =
      dev && !/^\s/.test(line)
        ? normalizePciAddress(dev[1]!)
        : dev && !DETAIL.test(line)
          ? normalizePciAddress(dev[1]!)
          : null;
    if (dev && addr) {
      cur = parseHead(addr, dev[2]!);
      devices.push(cur);
      continue;
    }
    const d = DETAIL.exec(line);
    if (!d || !cur) continue;
    const value = d[2]!.trim();
    switch (d[1]) {
      case 'Subsystem': {
        const { id, rest } = lastId(value);
        cur.subsystem = { description: rest, id };
        break;
      }
      case 'Kernel driver in use':
        cur.driver = value || null;
        break;
      case 'Kernel modules':
        cur.modules = value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      default:
        break;
    }
  }
  return devices;
}

/** PCI-to-PCI bridges (class 0604) and host bridges: never handed to a guest, allowed in a vfio group. */
export function isBridge(d: Pick<PciDevice, 'classCode' | 'className'>): boolean {
  return d.classCode === '0604' || d.classCode === '0600' || /PCI bridge|Host bridge/i.test(d.className);
}
