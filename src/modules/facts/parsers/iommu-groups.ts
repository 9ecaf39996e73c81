/**
 * IOMMU group membership, from any of the listings operators paste:
 * - sysfs paths: `/sys/kernel/iommu_groups/7/devices/0000:3b:00.0` (find ... -type l);
 * - the common script outputs: `IOMMU Group 1:` / `Group 1` headers followed by one device per line (bare
 *   addresses or `lspci -nns` lines), or `IOMMU Group 1 00:01.0 PCI bridge [0604]: ...` on one line;
 * - `ls -l /sys/bus/pci/devices/X/iommu_group/devices/` (symlink lines) and a bare `ls -1` of addresses after a
 *   `readlink ... /sys/kernel/iommu_groups/7` line;
 * - `### Group 1 ###` / `=== IOMMU Group 1 ===` banners and `IOMMU Group: 1` lines, with labelled device lines
 *   (`Group Device: 0000:00:01.0 - PCI bridge [0604]: ...`) or tree lines (`├── 0000:00:01.0 ...`) under them;
 * - `ls -1 /sys/kernel/iommu_groups` (group numbers only).
 * The PCI class (`[0300]` in `lspci -nn` text) and `vendor:device` id of each member are kept when printed.
 * And `/sys/kernel/iommu_groups/N/type` contents (`grep -H . .../type`) for the default domain per group.
 */
import { normalizePciAddress } from './pci-address.js';

export interface IommuGroupMember {
  address: string;
  /** The rest of an `lspci -nn` style line, when the listing had one. */
  description?: string;
  /** `vendor:device`, lower case, e.g. `10de:1e87`. */
  id?: string;
  /** PCI class code as lspci -nn prints it, e.g. `0300` (VGA), `0604` (PCI bridge). */
  class?: string;
}

export interface IommuGroup {
  /** Group number; null when the listing did not say which group. */
  id: number | null;
  devices: IommuGroupMember[];
}

const ADDR = '((?:[0-9a-fA-F]{4,}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7])';
const SYSFS = new RegExp(`iommu_groups/(\\d+)/devices/${ADDR}`);
const HEADER = /^(?:IOMMU\s+)?Group\s*:?\s*(\d+)\b\s*:?\s*(.*)$/i;
// Banner and tree decoration around headers and members: `### Group 1 ###`, `├── `, `- `, `* `.
const DECORATION = /^[#=*\-|\s\u2500-\u257f]+|[#=*\-\s]+$/gu;
// A label before a member address (`Group Device:`, `Device:`), never a PCI address itself.
const LABEL = /^[A-Za-z][A-Za-z ]*:\s+/;
const MEMBER = new RegExp(
  `^(?:\\S+\\s+\\d+\\s+\\S+\\s+\\S+\\s+\\d+\\s+\\w+\\s+\\d+\\s+[\\d:]+\\s+)?${ADDR}(?:\\s+->\\s+\\S+)?\\s*(.*)$`,
);

/** `Group Device: 0000:00:01.0 ...` -> `0000:00:01.0 ...`; a group label (`IOMMU Group: 7`) stays. */
function unlabel(line: string): string {
  const l = LABEL.exec(line);
  return l && !/^(IOMMU\s+)?Group\s*:/i.test(l[0]) ? line.slice(l[0].length) : line;
}

function member(address: string, rest: string): IommuGroupMember {
  const m: IommuGroupMember = { address };
  const text = rest.trim().replace(/^[-:]\s+/, '');
  if (text) {
    m.description = text;
    const id = /\[([0-9a-fA-F]{4}:[0-9a-fA-F]{4})\](?!.*\[[0-9a-fA-F]{4}:[0-9a-fA-F]{4}\])/.exec(text);
    if (id) m.id = id[1]!.toLowerCase();
    // lspci -nn puts the class right after its name and before the colon: `VGA compatible controller [0300]:`.
    const cls = /\[([0-9a-fA-F]{4})\](?=:|\s*$)/.exec(text);
    if (cls?.[1]) m.class = cls[1].toLowerCase();
  }
  return m;
}

export function parseIommuGroups(text: string): IommuGroup[] {
  const groups = new Map<string, IommuGroup>();
  const order: IommuGroup[] = [];
  const group = (id: number | null): IommuGroup => {
    const key = id === null ? `null:${order.length}` : String(id);
    let g = id === null ? undefined : groups.get(key);
    if (!g) {
      g = { id, devices: [] };
      groups.set(key, g);
      order.push(g);
    }
    return g;
  };
  const add = (g: IommuGroup, m: IommuGroupMember) => {
    if (!g.devices.some((d) => d.address === m.address)) g.devices.push(m);
  };
  let current: IommuGroup | undefined;
  for (const raw of text.split('\n')) {
    const line = unlabel(raw.replace(/\r$/, '').replace(DECORATION, '').trim());
    if (!line || /^total \d+/.test(line)) continue;
    const s = SYSFS.exec(line);
    if (s) {
      add(group(Number(s[1])), { address: normalizePciAddress(s[2]!)! });
      continue;
    }
    const link = /\/sys\/kernel\/iommu_groups\/(\d+)\/?$/.exec(line);
    if (link) {
      current = group(Number(link[1]));
      continue;
    }
    const h = HEADER.exec(line);
    if (h) {
      current = group(Number(h[1]));
      const rest = new RegExp(`^${ADDR}\\s*(.*)$`).exec(h[2] ?? '');
      if (rest) add(current, member(normalizePciAddress(rest[1]!)!, rest[2] ?? ''));
      continue;
    }
    if (/^\d+$/.test(line)) {
      group(Number(line));
      current = undefined;
      continue;
    }
    const m = MEMBER.exec(line);
    const address = m ? normalizePciAddress(m[1]!) : null;
    if (!m || !address) continue;
    current ??= group(null);
    add(current, member(address, m[2] ?? ''));
  }
  for (const g of order) g.devices.sort((a, b) => a.address.localeCompare(b.address));
  return order.sort((a, b) => (a.id ?? Infinity) - (b.id ?? Infinity));
}

/** `/sys/kernel/iommu_groups/7/type:DMA-FQ` lines -> { 7: 'DMA-FQ' }. */
export function parseIommuGroupTypes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/iommu_groups\/(\d+)\/type:\s*(\S+)/g)) out[m[1]!] = m[2]!;
  return out;
}
