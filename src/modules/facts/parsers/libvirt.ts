/**
 * The hypervisor's view through libvirt: the domains (guests) and their states, each domain's PCI host devices,
 * the PCI devices libvirt can enumerate (`virsh nodedev-list`, guide 2 task 16), which processes hold
 * `/dev/vfio/N`, and the last start error of a guest that failed. Parsers of what `virsh` prints (`list --all`,
 * `domstate --reason`, `dumpxml`, `nodedev-list [--tree]`) and of the collection script's `guests` section, which
 * strings them together under `@@` markers (XML lines never start with `@@`).
 */
import { XMLParser } from 'fast-xml-parser';

export interface GuestHostdev {
  /** `0000:01:00.0` */
  address: string;
  /** libvirt binds the device to vfio-pci itself at start (`managed='yes'`). */
  managed: boolean;
}

export interface GuestDomain {
  name: string;
  /** As virsh prints it: `running`, `shut off`, `paused`, `crashed`, `in shutdown`, `pmsuspended`, ... */
  state: string;
  /** `domstate --reason`'s reason: `booted`, `failed`, `shutdown`, `destroyed`, `panicked`, ...; null when unknown. */
  reason: string | null;
  hostdevs: GuestHostdev[];
  /** Maximum memory, KiB, when the XML says. */
  memoryKiB: number | null;
  /**
   * For a guest that failed to start or crashed: the last error line of its QEMU log, or of libvirt's journal this
   * boot when the log has none (QEMU never ran), prefixed with where it comes from.
   */
  lastError: string | null;
  /**
   * The QEMU process of a running guest, from libvirt's pid file (`/run/libvirt/qemu/NAME.pid`, the local system
   * instance only); null when not read. With `vfioHolders` it says whether QEMU holds each host device's VFIO group.
   */
  pid: number | null;
}

export interface VfioHolder {
  pid: number;
  /** The process's name (`qemu-system-x86`, `qemu-kvm`, ...). */
  comm: string;
  /** The IOMMU group number of the `/dev/vfio/N` it holds open. */
  group: string;
}

export interface GuestsView {
  /** virsh is installed on the host. */
  libvirt: boolean;
  /** The connection URI asked for, or null for virsh's default (`qemu:///system` as root). */
  uri: string | null;
  domains: GuestDomain[];
  /** PCI addresses of `virsh nodedev-list`; null when libvirt could not list node devices (see nodeDevicesError). */
  nodeDevices: string[] | null;
  nodeDevicesError: string | null;
  vfioHolders: VfioHolder[];
}

/** Domains that are up: what a reboot of the host would stop. */
export const isRunning = (d: GuestDomain): boolean =>
  ['running', 'paused', 'idle', 'blocked', 'in shutdown', 'pmsuspended'].includes(d.state);

const NODEDEV_PCI = /(?:^|[\s+|`-])pci_([0-9a-f]{4})_([0-9a-f]{2})_([0-9a-f]{2})_([0-7])\b/i;

/** `virsh nodedev-list` (plain or `--tree`, with or without `--cap pci`): the PCI addresses, in order. */
export function parseNodedevList(text: string): string[] | null {
  const out: string[] = [];
  let recognised = false;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    const m = NODEDEV_PCI.exec(line);
    if (m) out.push(`${m[1]}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase());
    // Other node devices (computer, net_*, usb_*, scsi_*, block_*, tree drawing) still mean this is a listing.
    if (m || /^[|+`\s-]*(computer|[a-z]+_[\w:.-]+)$/i.test(t) || /^[|\s]+$/.test(t)) recognised = true;
  }
  return recognised ? [...new Set(out)] : null;
}

/** `virsh domstate --reason`: `running (booted)` -> state and reason. */
export function parseDomstate(text: string): { state: string; reason: string | null } | null {
  const m = /^\s*([a-z][a-z ]*?)\s*(?:\(([^)]*)\))?\s*$/i.exec(text.trim().split('\n')[0] ?? '');
  if (!m) return null;
  const reason = m[2]?.trim();
  return { state: (m[1] ?? '').toLowerCase(), reason: reason && reason !== 'unknown' ? reason : null };
}

/** `virsh list --all` (the table, with or without its header): name and state of each domain. */
export function parseVirshList(text: string): Array<{ name: string; state: string; id: number | null }> | null {
  const lines = text.split('\n');
  const header = lines.findIndex((l) => /^\s*Id\s+Name\s+State\s*$/.test(l));
  const body = header >= 0 ? lines.slice(header + 1) : lines;
  const stateCol = (lines[header] ?? '').indexOf('State');
  const out: Array<{ name: string; state: string; id: number | null }> = [];
  for (const line of body) {
    if (/^-+$/.test(line.trim()) || !line.trim()) continue;
    // Names may hold spaces: with a header, the State column starts where its title does (virsh pads to it).
    if (stateCol > 0 && line.length > stateCol) {
      const head = /^\s*(\d+|-)\s+(.*)$/.exec(line.slice(0, stateCol));
      if (head) {
        out.push({
          id: head[1] === '-' ? null : Number(head[1]),
          name: (head[2] ?? '').trim(),
          state: line.slice(stateCol).trim(),
        });
        continue;
      }
    }
    const m = /^\s*(\d+|-)\s+(\S+)\s+(.+?)\s*$/.exec(line);
    if (!m) return header >= 0 || out.length ? out : null;
    out.push({ id: m[1] === '-' ? null : Number(m[1]), name: m[2] ?? '', state: m[3] ?? '' });
  }
  return header >= 0 || out.length ? out : null;
}

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  isArray: (_name, jpath, _leaf, isAttribute) =>
    !isAttribute && (jpath === 'domain.devices.hostdev' || jpath === 'domain.devices'),
});

const hex = (s: unknown, width: number): string | null => {
  if (typeof s !== 'string' || !/^(0x)?[0-9a-f]+$/i.test(s.trim())) return null;
  return parseInt(s.trim().replace(/^0x/i, ''), 16).toString(16).padStart(width, '0');
};

/** `virsh dumpxml NAME`: the domain's name, memory and PCI host devices (`<hostdev mode='subsystem' type='pci'>`). */
export function parseDomainXml(
  text: string,
): { name: string; memoryKiB: number | null; hostdevs: GuestHostdev[] } | null {
  let doc: unknown;
  try {
    doc = xml.parse(text);
  } catch {
    return null;
  }
  const dom = (doc as { domain?: Record<string, unknown> }).domain;
  if (!dom || typeof dom !== 'object') return null;
  const name = typeof dom.name === 'string' ? dom.name : null;
  if (!name) return null;
  const hostdevs: GuestHostdev[] = [];
  for (const devices of (dom.devices as Array<Record<string, unknown>> | undefined) ?? []) {
    for (const hd of (devices?.hostdev as Array<Record<string, unknown>> | undefined) ?? []) {
      if (hd.type !== 'pci') continue;
      const a = ((hd.source as Record<string, unknown> | undefined)?.address ?? {}) as Record<string, unknown>;
      const parts = [hex(a.domain ?? '0', 4), hex(a.bus, 2), hex(a.slot, 2), hex(a.function, 1)];
      if (parts.some((p) => p === null)) continue;
      hostdevs.push({ address: `${parts[0]}:${parts[1]}:${parts[2]}.${parts[3]}`, managed: hd.managed !== 'no' });
    }
  }
  const mem = dom.memory as string | { '#text'?: string; unit?: string } | undefined;
  const memoryKiB = memoryInKiB(mem);
  return { name, memoryKiB, hostdevs };
}

const UNITS: Record<string, number> = {
  b: 1 / 1024,
  bytes: 1 / 1024,
  k: 1,
  kib: 1,
  kb: 1000 / 1024,
  m: 1024,
  mib: 1024,
  mb: 1e6 / 1024,
  g: 1024 ** 2,
  gib: 1024 ** 2,
  gb: 1e9 / 1024,
};

function memoryInKiB(mem: string | { '#text'?: string; unit?: string } | undefined): number | null {
  if (mem === undefined) return null;
  const value = Number(typeof mem === 'string' ? mem : mem['#text']);
  const unit = (typeof mem === 'string' ? 'KiB' : (mem.unit ?? 'KiB')).toLowerCase();
  const factor = UNITS[unit];
  return Number.isFinite(value) && factor !== undefined ? Math.round(value * factor) : null;
}

/**
 * The collection script's `guests` section:
 *   `# no-libvirt` (virsh not installed) | `# uri URI`
 *   `@@nodedev` + nodedev-list output, or `@@nodedev-error MESSAGE`
 *   per domain: `@@domain NAME`, `@@state` + domstate --reason, `@@xml` + dumpxml, `@@pid PID` (running, local
 *   system instance), `@@lasterror LINE` (failed or crashed)
 *   `@@vfio PID COMM /dev/vfio/N` per process holding a vfio group open.
 */
export function parseGuestsSection(text: string): GuestsView | null {
  if (/^# no-libvirt/m.test(text))
    return { libvirt: false, uri: null, domains: [], nodeDevices: [], nodeDevicesError: null, vfioHolders: [] };
  const uriLine = /^# uri (.*)$/m.exec(text);
  if (!uriLine) return null;
  const view: GuestsView = {
    libvirt: true,
    uri: (uriLine[1] ?? '').trim() || null,
    domains: [],
    nodeDevices: null,
    nodeDevicesError: null,
    vfioHolders: [],
  };
  let block: { kind: string; arg: string; lines: string[] } | null = null;
  let current: GuestDomain | null = null;
  const flush = () => {
    if (!block) return;
    const body = block.lines.join('\n');
    if (block.kind === 'nodedev') view.nodeDevices = parseNodedevList(body) ?? [];
    else if (block.kind === 'state' && current) {
      const s = parseDomstate(block.arg || body);
      if (s) Object.assign(current, s);
    } else if (block.kind === 'xml' && current) {
      const d = parseDomainXml(body);
      if (d) Object.assign(current, { hostdevs: d.hostdevs, memoryKiB: d.memoryKiB });
    }
    block = null;
  };
  for (const line of text.split('\n')) {
    const m = /^@@([a-z-]+)(?: (.*))?$/.exec(line);
    if (!m) {
      block?.lines.push(line);
      continue;
    }
    flush();
    const [, kind, arg = ''] = m;
    if (kind === 'domain') {
      current = {
        name: arg,
        state: 'unknown',
        reason: null,
        hostdevs: [],
        memoryKiB: null,
        lastError: null,
        pid: null,
      };
      view.domains.push(current);
    } else if (kind === 'nodedev-error') view.nodeDevicesError = arg.trim() || 'virsh nodedev-list failed';
    else if (kind === 'lasterror' && current) current.lastError = arg.trim() || null;
    else if (kind === 'pid' && current) current.pid = /^\d+$/.test(arg.trim()) ? Number(arg.trim()) : null;
    else if (kind === 'vfio') {
      const v = /^(\d+)\s+(.*?)\s+\/dev\/vfio\/(\S+)$/.exec(arg.trim());
      if (v) view.vfioHolders.push({ pid: Number(v[1]), comm: v[2] ?? '', group: v[3] ?? '' });
    } else block = { kind: kind ?? '', arg, lines: [] };
  }
  flush();
  return view;
}
