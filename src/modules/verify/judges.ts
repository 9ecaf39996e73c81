/**
 * The one set of judges every verification uses: the `verify` module's conditions over one snapshot
 * (conditions.ts) and the staged rollout's verification after a boot against the pre-change snapshot
 * (executor/rollout/verify.ts) ask these, so a condition holds or fails the same way in `run` and in `rollout`.
 * Each judge says whether it holds, what the snapshot shows and the snapshot lines that show it. A fact the
 * snapshot could not read never holds ("cannot tell" is not "fine").
 */
import type { Derived, HostSnapshot, Known } from '../facts/snapshot.js';
import { valueOf } from '../facts/known.js';
import { parseCmdline, type CmdlineArg } from '../facts/parsers/cmdline.js';
import { moduleName } from '../facts/parsers/lsmod.js';
import { normalizeDeviceId } from '../facts/parsers/pci-address.js';
import { isRunning, type GuestDomain, type GuestsView } from '../facts/parsers/libvirt.js';
import { newFaults } from '../facts/diff.js';
import type { FindingsReport } from '../findings/evaluate.js';
import { VFIO_MODULES } from '../initramfs/initramfs-tooling.js';

export interface Judgement {
  holds: boolean;
  /** What the snapshot shows, e.g. `translated`, `unknown: dmesg: Operation not permitted`. */
  found: string;
  evidence: string[];
}

export const cannotTell = (reason: string): Judgement => ({ holds: false, found: `unknown: ${reason}`, evidence: [] });

/** A derived fact compared with the wanted value through `show`. */
function derived<T>(k: Known<Derived<T>>, holds: (v: T) => boolean, show: (v: T) => string): Judgement {
  if (k.status !== 'ok') return cannotTell(k.reason);
  return { holds: holds(k.value.value), found: show(k.value.value), evidence: k.value.evidence };
}

const onOff = (v: boolean) => (v ? 'enabled' : 'disabled');

export const iommuActive = (snap: HostSnapshot, wanted: boolean): Judgement =>
  derived(snap.iommu.active, (v) => v === wanted, onOff);

export const defaultDomain = (snap: HostSnapshot, wanted: string): Judgement =>
  derived(snap.iommu.defaultDomain, (v) => v === wanted, String);

export const interruptRemapping = (snap: HostSnapshot, wanted: boolean): Judgement =>
  derived(
    snap.iommu.interruptRemapping,
    (v) => v.enabled === wanted,
    (v) => (v.enabled ? `enabled${v.mode ? ` (${v.mode} mode)` : ''}` : 'disabled'),
  );

export function kernel(snap: HostSnapshot, wanted: string): Judgement {
  const k = snap.kernelRelease;
  if (k.status !== 'ok') return cannotTell(k.reason);
  return { holds: k.value === wanted, found: k.value, evidence: [`uname -r: ${k.value}`] };
}

/** One command-line word as a wanted argument: `name=value` wants that value, a bare `name` any value. */
const argOf = (word: string): CmdlineArg | undefined => parseCmdline(word).args[0];

function matches(a: CmdlineArg, wanted: CmdlineArg): boolean {
  return a.name === wanted.name && (wanted.value === null || a.value === wanted.value);
}

const wordOf = (a: CmdlineArg) => (a.value === null ? a.name : `${a.name}=${a.value}`);

/** Every word present (or, with `present` false, none of them). */
export function args(snap: HostSnapshot, words: readonly string[], present: boolean): Judgement {
  if (snap.cmdline.status !== 'ok') return cannotTell(snap.cmdline.reason);
  const { args: have, raw } = snap.cmdline.value;
  const wrong = words.filter((w) => {
    const a = argOf(w);
    return a === undefined || have.some((h) => matches(h, a)) !== present;
  });
  const found = wrong.length
    ? `${present ? 'missing' : 'present'}: ${wrong.join(' ')}`
    : present
      ? 'all present'
      : 'none present';
  return { holds: wrong.length === 0, found, evidence: [`/proc/cmdline: ${raw}`] };
}

/** Words the boot loader or rollgate's trial adds: not part of the host's configuration. */
const TRANSIENT = new Set(['BOOT_IMAGE', 'initrd', 'panic']);

/**
 * The command line after a boot against the one before: the `present` words there, the `absent` ones gone, and
 * nothing else lost or added. Words match as in `args` (a bare name matches any value of it). `asserted` words
 * (a `verify` task's, judged by `args` under their own names) are left out: one asserted present may appear, one
 * asserted absent may go.
 */
export function cmdlineSince(
  pre: HostSnapshot,
  post: HostSnapshot,
  present: readonly string[],
  absent: readonly string[],
  asserted: { present: readonly string[]; absent: readonly string[] } = { present: [], absent: [] },
): Judgement & { expected: string } {
  const before = (valueOf(pre.cmdline)?.args ?? []).filter((a) => !TRANSIENT.has(a.name));
  const gone = absent.map(argOf).filter((a): a is CmdlineArg => a !== undefined);
  const wanted = [
    ...before.filter((a) => !gone.some((g) => matches(a, g))),
    ...present
      .map(argOf)
      .filter((a): a is CmdlineArg => a !== undefined && !before.some((b) => matches(b, a) && matches(a, b))),
  ];
  const expected = wanted.map(wordOf).join(' ');
  if (post.cmdline.status !== 'ok') return { ...cannotTell(post.cmdline.reason), expected };
  const after = post.cmdline.value.args.filter((a) => !TRANSIENT.has(a.name));
  const mayGo = asserted.absent.map(argOf).filter((a): a is CmdlineArg => a !== undefined);
  const mayCome = asserted.present.map(argOf).filter((a): a is CmdlineArg => a !== undefined);
  const missing = wanted.filter((w) => !after.some((a) => matches(a, w)) && !mayGo.some((g) => matches(w, g)));
  const extra = after.filter((a) => !wanted.some((w) => matches(a, w)) && !mayCome.some((c) => matches(a, c)));
  return {
    holds: missing.length === 0 && extra.length === 0,
    expected,
    found:
      after.map(wordOf).join(' ') +
      (missing.length ? ` (missing: ${missing.map(wordOf).join(' ')})` : '') +
      (extra.length ? ` (unexpected: ${extra.map(wordOf).join(' ')})` : ''),
    evidence: [`/proc/cmdline: ${post.cmdline.value.raw}`],
  };
}

const sameDriver = (a: string | null, b: string) => a !== null && moduleName(a) === moduleName(b);

/** Every device with this vendor:device id runs `driver` (vfio-pci and vfio_pci are one module). */
export function driversById(snap: HostSnapshot, id: string, driver: string): Judgement {
  const norm = normalizeDeviceId(id);
  if (!norm)
    return {
      holds: false,
      found: `${JSON.stringify(id)} is not a vendor:device id (write e.g. "10de:1e87")`,
      evidence: [],
    };
  if (snap.pci.status !== 'ok') return cannotTell(snap.pci.reason);
  const devices = snap.pci.value.filter((d) => d.id === norm);
  if (!devices.length)
    return {
      holds: false,
      found: `no device ${norm} on this host`,
      evidence: [`lspci: ${snap.pci.value.length} devices, none [${norm}]`],
    };
  const wrong = devices.filter((d) => !sameDriver(d.driver, driver));
  const show = (ds: typeof devices) => ds.map((d) => `${d.address} ${d.driver ?? '(no driver)'}`).join(', ');
  return {
    holds: wrong.length === 0,
    found: show(wrong.length ? wrong : devices),
    evidence: devices.map((d) => `lspci: ${d.address} [${d.id}] Kernel driver in use: ${d.driver ?? '(none)'}`),
  };
}

/** The device at `address` is there and runs `driver` (`(none)`: no driver bound). */
export function deviceDriver(snap: HostSnapshot, address: string, driver: string): Judgement {
  if (snap.pci.status !== 'ok') return cannotTell(snap.pci.reason);
  const dev = snap.pci.value.find((d) => d.address === address);
  if (!dev) return { holds: false, found: 'device missing', evidence: [`lspci: no device at ${address}`] };
  return {
    holds: driver === '(none)' ? dev.driver === null : sameDriver(dev.driver, driver),
    found: dev.driver ?? '(none)',
    evidence: [`lspci: ${address} [${dev.id ?? '?'}] Kernel driver in use: ${dev.driver ?? '(none)'}`],
  };
}

/** The members of the IOMMU group holding `address`, sorted, as one string. */
export function groupMembers(s: HostSnapshot, address: string): string | undefined {
  const g = valueOf(s.iommu.groups)?.find((grp) => grp.devices.some((d) => d.address === address));
  return g
    ? g.devices
        .map((d) => d.address)
        .sort()
        .join(' ')
    : undefined;
}

/** The IOMMU group of `address` has exactly these members. */
export function groupIs(snap: HostSnapshot, address: string, members: string): Judgement {
  if (snap.iommu.groups.status !== 'ok') return cannotTell(snap.iommu.groups.reason);
  const now = groupMembers(snap, address);
  return {
    holds: now === members,
    found: now ?? 'not in any group',
    evidence: now ? [`/sys/kernel/iommu_groups: ${address} with ${now}`] : [],
  };
}

/** vfio, vfio_iommu_type1 and vfio_pci are in the running kernel's initramfs (or built in); or none, if not wanted. */
export function vfioInInitramfs(snap: HostSnapshot, wanted: boolean): Judgement {
  const i = snap.modules.initramfs;
  if (i.status !== 'ok') return cannotTell(i.reason);
  const builtin = snap.modules.builtin.status === 'ok' ? snap.modules.builtin.value : [];
  const inside = VFIO_MODULES.filter((m) => i.value.modules.includes(m) || builtin.includes(m));
  const missing = VFIO_MODULES.filter((m) => !inside.includes(m));
  const evidence = [
    `${i.value.tool} ${i.value.image ?? ''}`.trim() +
      `: ${i.value.modules.filter((m) => m.includes('vfio')).join(', ') || 'no vfio module'}`,
  ];
  if (builtin.some((m) => m.includes('vfio')))
    evidence.push(`built into the kernel: ${builtin.filter((m) => m.includes('vfio')).join(', ')}`);
  return wanted
    ? {
        holds: missing.length === 0,
        found: missing.length ? `lacks ${missing.join(', ')}` : 'vfio, vfio_iommu_type1, vfio_pci inside',
        evidence,
      }
    : {
        holds: inside.length === 0,
        found: inside.length ? `holds ${inside.join(', ')}` : 'no vfio module inside',
        evidence,
      };
}

/** No DMA fault the baseline did not already show (facts/diff.ts `newFaults` says what counts as shown). */
export function noNewFaults(baseline: HostSnapshot | undefined, snap: HostSnapshot): Judgement {
  const r = newFaults(baseline, snap);
  if ('unknown' in r) return cannotTell(r.unknown);
  const lines = r.faults.slice(0, 5).map((f) => f.line);
  if (r.faults.length > 5) lines.push(`... and ${r.faults.length - 5} more`);
  return { holds: r.faults.length === 0, found: `${r.faults.length} new fault(s)`, evidence: [r.basis, ...lines] };
}

export function noErrorFindings(report: FindingsReport): Judgement {
  const errors = report.findings.filter((f) => f.severity === 'error');
  return {
    holds: errors.length === 0,
    found: `${errors.length} error finding(s)`,
    evidence: errors.map((f) => `${f.rule}: ${f.message}`),
  };
}

const hostdevs = (d: GuestDomain) => d.hostdevs.map((x) => x.address).join(' ');

/**
 * Whether the running guest's QEMU holds the VFIO group of each of its host devices open (the kernel's view of
 * QEMU's device assignment: /proc/PID/fd of the pid in libvirt's pid file); null when that cannot be read here (no
 * pid file, as with a session or remote libvirt, or the groups unknown).
 */
function qemuHold(snap: HostSnapshot, view: GuestsView, dom: GuestDomain): { holds: boolean; line: string } | null {
  const groups = valueOf(snap.iommu.groups);
  if (!dom.hostdevs.length || dom.pid === null || !groups) return null;
  const held = new Set(view.vfioHolders.filter((h) => h.pid === dom.pid).map((h) => h.group));
  const missing: string[] = [];
  const holding: string[] = [];
  for (const h of dom.hostdevs) {
    const id = groups.find((g) => g.devices.some((d) => d.address === h.address))?.id;
    if (id === null || id === undefined) return null;
    (held.has(String(id)) ? holding : missing).push(`/dev/vfio/${id} (${h.address})`);
  }
  return missing.length
    ? { holds: false, line: `its QEMU (pid ${dom.pid}) does not hold ${missing.join(', ')}` }
    : { holds: true, line: `its QEMU (pid ${dom.pid}) holds ${holding.join(', ')}` };
}

/**
 * The guest that ran before (`was`) runs again here, with the same host devices, and where the host shows it, its
 * QEMU holds each device's VFIO group.
 */
export function guestBack(snap: HostSnapshot, was: GuestDomain): Judgement & { expected: string } {
  const expected = `running${was.hostdevs.length ? ` with ${hostdevs(was)}` : ''}`;
  const k: Known<GuestsView> | undefined = snap.guests;
  if (!k || k.status !== 'ok') return { ...cannotTell(k ? k.reason : 'not collected'), expected };
  const now = k.value.domains.find((x) => x.name === was.name);
  const hold = now && isRunning(now) ? qemuHold(snap, k.value, now) : null;
  return {
    holds: !!now && isRunning(now) && hostdevs(now) === hostdevs(was) && hold?.holds !== false,
    expected,
    found: !now
      ? 'not defined'
      : `${now.state}${now.reason ? ` (${now.reason})` : ''}${now.hostdevs.length ? ` with ${hostdevs(now)}` : ''}${hold && !hold.holds ? `, but ${hold.line}` : ''}`,
    evidence: now ? [`virsh: ${now.name} ${now.state}`, ...(hold ? [hold.line] : [])] : [],
  };
}
