/**
 * `rollgate lab up --guests`: lab VMs from the guests image (lab/image-guests/) run libvirt (`qemu:///system`, TCG
 * inside the TCG lab VM) with two small nested guests each, defined and started before the VM's booted state is
 * saved (so a restore brings them back running):
 *
 * - `movable-labN`: no host device, no disk, 32 MiB, and for its whole OS a multiboot image QEMU boots directly
 *   (lab/image-guests/guest.S: it lists its PCI devices on its serial console, idles in `hlt`, and powers off on the
 *   ACPI power button), so it live-migrates over the lab's private network in seconds;
 * - `pt-labN`: the same, plus `<hostdev managed='yes'>` of the lab VM's e1000e behind its root port (0000:01:00.0),
 *   which libvirt detaches to vfio-pci behind the emulated IOMMU (intel_iommu=on in the guests image).
 *
 * The private network: a second virtio NIC per VM (00:05.0) on a QEMU multicast socket LAN of the host's loopback
 * (no host networking touched), labN = 10.77.0.N (the image's /etc/hosts and rollgate-lab-lan). `lab up` gives every
 * VM the others' exact host keys (/etc/ssh/ssh_known_hosts) so libvirt's qemu+ssh migration checks them strictly.
 * The pure parts (names, XML, addresses) are unit-tested.
 */
import { createHash } from 'node:crypto';
import type { Connection } from '../connection/connection.js';
import { sh } from '../connection/shell-quote.js';
import { LAB_KINDS } from './kinds.js';
import type { VmRecord } from './state.js';

/** Names the guests setup in saved-state keys: bump when what it leaves in the guest changes. */
export const GUESTS_SETUP_ID = 'guests-1';

/**
 * Nested guest memory, MiB: guest.S needs a few KiB; migration copies this much (zero pages cheaply). A Debian kernel
 * with a busybox initramfs (the first attempt) needed 96 and took ~10 min to reach its init under TCG in TCG.
 */
export const GUEST_MEMORY_MB = 32;
/** TCG translation cache of a nested guest's QEMU, MiB (QEMU's default, 1 GiB, would not fit the lab VM). */
export const GUEST_TB_CACHE_MB = 16;
/** Where the guests image keeps the nested guests' OS, guest.elf (lab/image-guests/derive.sh). */
export const GUEST_BOOT_DIR = '/var/lib/rollgate-lab/guests';
/** What guest.S prints once it has listed its PCI devices. */
export const GUEST_READY_LINE = 'rollgate-lab-guest: ready';
/** The private LAN's PCI slot in the lab VM (rollgate-lab-lan matches Path=pci-0000:00:05.0). */
export const LAN_SLOT = 0x5;

export interface LabGuest {
  name: string;
  /** 'movable' (no host device) or 'pt' (the root-port NIC passed through). */
  role: 'movable' | 'pt';
  /** PCI address in the lab VM of the device it holds, for 'pt'. */
  hostdev?: string;
}

/** The two guests of a lab host, in start order. */
export function labGuests(host: string): LabGuest[] {
  return [
    { name: `movable-${host}`, role: 'movable' },
    { name: `pt-${host}`, role: 'pt', hostdev: LAB_KINDS.intel.rootPortNic.address },
  ];
}

/** The VM's address on the lab's private network: lab1 = 10.77.0.1, ... */
export function lanAddress(index: number): string {
  return `10.77.0.${index + 1}`;
}

/** Locally administered MAC of the VM's LAN NIC. */
export function lanMac(index: number): string {
  return `52:54:00:77:00:${(index + 1).toString(16).padStart(2, '0')}`;
}

/**
 * The multicast group:port of one lab's LAN on the host's loopback: the port follows the state dir, so two labs on
 * one machine (another checkout, the e2e's own) never share a LAN with colliding addresses.
 */
export function lanMcast(stateDir: string): string {
  const n = createHash('sha256').update(stateDir).digest().readUInt16BE(0);
  return `230.77.0.1:${40000 + (n % 20000)}`;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

function pciAddressXml(address: string): string {
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(address);
  if (!m) throw new Error(`bad PCI address ${address}`);
  return `<address domain='0x${m[1]}' bus='0x${m[2]}' slot='0x${m[3]}' function='0x${m[4]}'/>`;
}

/** The serial console log of a nested guest inside the lab VM. */
export function guestSerialLog(name: string): string {
  return `/var/log/libvirt/qemu/${name}-serial.log`;
}

/** libvirt domain XML of one nested guest: diskless, no NIC, a serial console to a file, -no-reboot style. */
export function guestDomainXml(guest: LabGuest, memoryMb = GUEST_MEMORY_MB): string {
  const hostdev = guest.hostdev
    ? [
        `    <hostdev mode='subsystem' type='pci' managed='yes'>`,
        `      <source>${pciAddressXml(guest.hostdev)}</source>`,
        `    </hostdev>`,
      ]
    : [];
  return [
    `<domain type='qemu'>`,
    `  <name>${xmlEscape(guest.name)}</name>`,
    `  <description>rollgate lab guest (${guest.role}): diskless, lists its PCI devices on its serial console</description>`,
    `  <memory unit='MiB'>${memoryMb}</memory>`,
    `  <vcpu>1</vcpu>`,
    `  <os>`,
    `    <type arch='x86_64' machine='pc'>hvm</type>`,
    `    <kernel>${GUEST_BOOT_DIR}/guest.elf</kernel>`,
    `  </os>`,
    `  <features>`,
    `    <acpi/>`,
    `    <tcg><tb-cache unit='MiB'>${GUEST_TB_CACHE_MB}</tb-cache></tcg>`,
    `  </features>`,
    `  <clock offset='utc'/>`,
    `  <on_poweroff>destroy</on_poweroff>`,
    `  <on_reboot>destroy</on_reboot>`,
    `  <on_crash>destroy</on_crash>`,
    `  <devices>`,
    `    <emulator>/usr/bin/qemu-system-x86_64</emulator>`,
    `    <controller type='usb' model='none'/>`,
    `    <serial type='file'>`,
    `      <source path='${guestSerialLog(guest.name)}' append='on'/>`,
    `      <target port='0'/>`,
    `    </serial>`,
    `    <memballoon model='none'/>`,
    ...hostdev,
    `  </devices>`,
    `</domain>`,
    '',
  ].join('\n');
}

/** /etc/ssh/ssh_known_hosts for the private LAN: every lab VM's host key under its name and LAN address. */
export function lanKnownHosts(hosts: readonly (Pick<VmRecord, 'name' | 'index' | 'hostPublicKey'> | undefined)[]): string {
  return hosts.map((h) => (h ? `${h.name},${lanAddress(h.index)} ${h.hostPublicKey}\n` : '')).join('');
}

/** Start-up costs of one VM's guests, ms. */
export interface GuestTimes {
  /** `virsh start` returned (QEMU started, the hostdev detached and bound to vfio-pci). */
  start: Record<string, number>;
  /** `virsh start` to the guest's ready line on its serial console (its kernel booted, PCI devices listed). */
  ready: Record<string, number>;
}

/**
 * Define and start the VM's two guests (as root over `conn`), then wait until each printed its ready line. Throws
 * with libvirt's message on a failure.
 */
export async function setupGuests(conn: Connection, rec: Pick<VmRecord, 'name'>, onPhase: (phase: string) => void = () => {}, timeoutMs = 600_000): Promise<GuestTimes> {
  const times: GuestTimes = { start: {}, ready: {} };
  const t0: Record<string, number> = {};
  // libvirtd's first connection probes QEMU's capabilities (tens of seconds under TCG): paid once, here.
  const cap = await conn.exec('virsh -c qemu:///system capabilities >/dev/null', { timeoutMs: 600_000, become: false });
  if (cap.exitCode !== 0) throw new Error(`${rec.name}: libvirt does not answer: ${cap.stderr.trim().slice(-800)}`);
  for (const g of labGuests(rec.name)) {
    const xml = `${GUEST_BOOT_DIR}/${g.name}.xml`;
    const def = await conn.exec(`cat > ${xml} && virsh -c qemu:///system define ${xml} >/dev/null`, {
      timeoutMs: 120_000,
      become: false,
      stdin: guestDomainXml(g),
    });
    if (def.exitCode !== 0) throw new Error(`${rec.name}: virsh define ${g.name}: ${def.stderr.trim().slice(-800)}`);
    onPhase(`virsh start ${g.name}`);
    const began = Date.now();
    t0[g.name] = began;
    const start = await conn.exec(sh`: > ${guestSerialLog(g.name)}; virsh -c qemu:///system start ${g.name}`, { timeoutMs: 600_000, become: false });
    if (start.exitCode !== 0) throw new Error(`${rec.name}: virsh start ${g.name}: ${(start.stderr || start.stdout).trim().slice(-800)}`);
    times.start[g.name] = Date.now() - began;
  }
  for (const g of labGuests(rec.name)) {
    onPhase(`waiting for ${g.name} to boot`);
    const wait = await conn.exec(
      sh`for i in $(seq 1 ${Math.ceil(timeoutMs / 2000)}); do grep -q ${GUEST_READY_LINE} ${guestSerialLog(g.name)} 2>/dev/null && exit 0; sleep 2; done; exit 1`,
      { timeoutMs: timeoutMs + 60_000, become: false },
    );
    if (wait.exitCode !== 0) {
      const log = await conn.exec(sh`tail -n 20 ${guestSerialLog(g.name)}; virsh -c qemu:///system domstate ${g.name}`, { timeoutMs: 60_000, become: false });
      throw new Error(`${rec.name}: ${g.name} printed no "${GUEST_READY_LINE}" in ${Math.round(timeoutMs / 1000)} s; its console:\n${log.stdout}`);
    }
    times.ready[g.name] = Date.now() - (t0[g.name] ?? Date.now());
  }
  return times;
}

/** Give a running guests VM the LAN's known_hosts (the others' host keys, exact). */
export async function shareLanHostKeys(conn: Connection, knownHosts: string): Promise<void> {
  const r = await conn.exec('cat > /etc/ssh/ssh_known_hosts', { timeoutMs: 60_000, become: false, stdin: knownHosts });
  if (r.exitCode !== 0) throw new Error(`${conn.host}: cannot write /etc/ssh/ssh_known_hosts: ${r.stderr.trim()}`);
}

/** One line per guest of `lab up`'s figures: its `virsh start` and its boot to the ready line. */
export function guestTimeLines(t: GuestTimes): string[] {
  return Object.entries(t.start).map(
    ([g, ms]) => `${g}: virsh start ${(ms / 1000).toFixed(1)} s, booted to its ready line ${((t.ready[g] ?? 0) / 1000).toFixed(1)} s after the start`,
  );
}
