/**
 * What changed between two snapshots of one host, in the terms an operator and the rollout's verification
 * care about: kernel and boot, kernel arguments, IOMMU state and default domain, interrupt remapping, devices'
 * drivers and group companions, vfio modules loaded and in the initramfs, modprobe binding config, faults,
 * lockdown. Each change says whether it is a regression.
 */
import type { Known } from './known.js';
import { valueOf } from './known.js';
import type { HostSnapshot } from './snapshot.js';
import { formatArg } from './parsers/cmdline.js';
import type { DmaFault } from './parsers/dma-faults.js';
import { isRunning } from './parsers/libvirt.js';

export type ChangeImpact = 'regression' | 'change' | 'improvement';

export interface SnapshotChange {
  kind: string;
  impact: ChangeImpact;
  message: string;
  device?: string;
}

export interface SnapshotDiff {
  host: string;
  /** true when the boot id changed; null when either is unknown. */
  rebooted: boolean | null;
  changes: SnapshotChange[];
  regressions: number;
}

const derived = <T>(k: Known<{ value: T }>): T | undefined => valueOf(k)?.value;

function setDiff<T>(a: Iterable<T>, b: Iterable<T>): { added: T[]; removed: T[] } {
  const A = new Set(a);
  const B = new Set(b);
  return { added: [...B].filter((x) => !A.has(x)), removed: [...A].filter((x) => !B.has(x)) };
}

function faultKey(f: DmaFault): string {
  return `${f.device}|${f.kind}|${f.access}|${f.address}|${f.code}|${f.stamp ?? ''}`;
}

function companionsByDevice(s: HostSnapshot): Map<string, { group: number | null; others: string[] }> {
  const m = new Map<string, { group: number | null; others: string[] }>();
  for (const g of valueOf(s.iommu.groups) ?? [])
    for (const d of g.devices)
      m.set(d.address, { group: g.id, others: g.devices.map((x) => x.address).filter((a) => a !== d.address) });
  return m;
}

/** The same fault again: device, kind and the kernel's reason (not the address or the time). */
function faultKind(f: DmaFault): string {
  return `${f.device ?? '?'}|${f.kind}|${f.reason ?? f.code ?? ''}`;
}

/**
 * Faults in `after` that `before` did not show. In one boot, a fault is each line the kernel logged since `before`
 * (the same fault logged again counts). After a reboot the kernel log starts over, so a fault of the new boot is
 * new unless `before` showed one of the same device, kind and reason: a fault the host had before a change is not
 * the change's doing. Without a `before`, every fault of the current boot counts. `basis` says which applied.
 */
export function newFaults(
  before: HostSnapshot | undefined,
  after: HostSnapshot,
): { faults: DmaFault[]; basis: string } | { unknown: string } {
  if (after.faults.status !== 'ok') return { unknown: after.faults.reason };
  const fa = after.faults.value;
  if (!before)
    return { faults: fa, basis: 'no earlier snapshot to compare with: every fault of the current boot counts' };
  const [bb, ba] = [valueOf(before.bootId), valueOf(after.bootId)];
  const fb = valueOf(before.faults);
  if (bb && ba && bb !== ba && fb) {
    const known = new Set(fb.map(faultKind));
    return {
      faults: fa.filter((f) => !known.has(faultKind(f))),
      basis: `rebooted since the snapshot of ${before.collectedAt}: faults of the new boot whose device, kind and reason it did not show`,
    };
  }
  if (!fb)
    return {
      faults: fa,
      basis: `the snapshot of ${before.collectedAt} could not read the kernel log: every fault of the current boot counts`,
    };
  const seen = new Set(fb.map(faultKey));
  return {
    faults: fa.filter((f) => !seen.has(faultKey(f))),
    basis: `faults not already in the snapshot of ${before.collectedAt}`,
  };
}

export function diffSnapshots(before: HostSnapshot, after: HostSnapshot): SnapshotDiff {
  const changes: SnapshotChange[] = [];
  const add = (kind: string, impact: ChangeImpact, message: string, device?: string) =>
    changes.push({ kind, impact, message, ...(device ? { device } : {}) });

  const [kb, ka] = [valueOf(before.kernelRelease), valueOf(after.kernelRelease)];
  if (kb && ka && kb !== ka) add('kernel-changed', 'change', `kernel ${kb} -> ${ka}`);
  const [bb, ba] = [valueOf(before.bootId), valueOf(after.bootId)];
  const rebooted = bb && ba ? bb !== ba : null;

  const [cb, ca] = [valueOf(before.cmdline), valueOf(after.cmdline)];
  if (cb && ca) {
    const names = new Set([...cb.args, ...ca.args].map((a) => a.name));
    for (const name of names) {
      const vb = cb.args.filter((a) => a.name === name).map(formatArg);
      const va = ca.args.filter((a) => a.name === name).map(formatArg);
      if (vb.join(' ') === va.join(' ')) continue;
      if (!vb.length) add('cmdline-arg-added', 'change', `kernel argument added: ${va.join(' ')}`);
      else if (!va.length) add('cmdline-arg-removed', 'change', `kernel argument removed: ${vb.join(' ')}`);
      else add('cmdline-arg-changed', 'change', `kernel argument changed: ${vb.join(' ')} -> ${va.join(' ')}`);
    }
  }

  const [vb, va] = [derived(before.iommu.vendor), derived(after.iommu.vendor)];
  if (vb && va && vb !== va) add('iommu-vendor-changed', 'change', `IOMMU vendor ${vb} -> ${va}`);
  const [ab, aa] = [derived(before.iommu.active), derived(after.iommu.active)];
  if (ab !== undefined && aa !== undefined && ab !== aa)
    add(
      'iommu-active-changed',
      aa ? 'improvement' : 'regression',
      aa ? 'the IOMMU is now active' : 'the IOMMU is no longer active',
    );
  const [db, da] = [derived(before.iommu.defaultDomain), derived(after.iommu.defaultDomain)];
  if (db && da && db !== da) add('default-domain-changed', 'change', `default domain ${db} -> ${da}`);
  const [ib, ia] = [derived(before.iommu.interruptRemapping), derived(after.iommu.interruptRemapping)];
  if (ib && ia && ib.enabled !== ia.enabled)
    add(
      ia.enabled ? 'interrupt-remapping-gained' : 'interrupt-remapping-lost',
      ia.enabled ? 'improvement' : 'regression',
      ia.enabled ? 'interrupt remapping is now on' : 'interrupt remapping was lost',
    );
  const [gb, ga] = [valueOf(before.iommu.groups), valueOf(after.iommu.groups)];
  if (gb && ga && gb.length && !ga.length)
    add('iommu-groups-gone', 'regression', `${gb.length} IOMMU groups before, none now`);

  const [pb, pa] = [valueOf(before.pci), valueOf(after.pci)];
  if (pb && pa) {
    const B = new Map(pb.map((d) => [d.address, d]));
    const A = new Map(pa.map((d) => [d.address, d]));
    for (const [addr, d] of B)
      if (!A.has(addr)) add('device-removed', 'regression', `${addr} [${d.id ?? '?'}] is gone`, addr);
    for (const [addr, d] of A)
      if (!B.has(addr)) add('device-added', 'change', `${addr} [${d.id ?? '?'}] appeared`, addr);
    for (const [addr, d] of A) {
      const old = B.get(addr);
      if (!old || old.driver === d.driver) continue;
      const impact: ChangeImpact =
        old.driver === 'vfio-pci'
          ? 'regression'
          : d.driver === 'vfio-pci'
            ? 'change'
            : d.driver === null
              ? 'regression'
              : 'change';
      add(
        'driver-changed',
        impact,
        `${addr} [${d.id ?? '?'}] driver ${old.driver ?? '(none)'} -> ${d.driver ?? '(none)'}`,
        addr,
      );
    }
  }
  const [mb, ma] = [companionsByDevice(before), companionsByDevice(after)];
  for (const [addr, a] of ma) {
    const b = mb.get(addr);
    if (!b) continue;
    const { added, removed } = setDiff(b.others, a.others);
    if (added.length || removed.length)
      add(
        'group-members-changed',
        added.length ? 'regression' : 'improvement',
        `${addr} shares its group (${b.group} -> ${a.group}) ${added.length ? `now also with ${added.join(', ')}` : ''}${added.length && removed.length ? ' and ' : ''}${removed.length ? `no longer with ${removed.join(', ')}` : ''}`,
        addr,
      );
    else if (b.group !== a.group)
      add(
        'group-renumbered',
        'change',
        `${addr} moved from group ${b.group} to ${a.group} with the same companions`,
        addr,
      );
  }

  const vfio = (s: HostSnapshot, k: 'loaded' | 'initramfs') => {
    const v = k === 'loaded' ? valueOf(s.modules.loaded)?.map((m) => m.name) : valueOf(s.modules.initramfs)?.modules;
    return v?.filter((m) => /^(vfio|kvm|vhost)/.test(m));
  };
  for (const k of ['initramfs', 'loaded'] as const) {
    const [b, a] = [vfio(before, k), vfio(after, k)];
    if (!b || !a) continue;
    const { added, removed } = setDiff(b, a);
    const where = k === 'initramfs' ? 'the initramfs' : 'the loaded modules';
    if (removed.length) add(`modules-left-${k}`, 'regression', `${removed.join(', ')} left ${where}`);
    if (added.length) add(`modules-entered-${k}`, 'change', `${added.join(', ')} now in ${where}`);
  }
  const [ob, oa] = [valueOf(before.modules.modprobe), valueOf(after.modules.modprobe)];
  if (ob && oa) {
    const ids = setDiff(ob.vfioIds, oa.vfioIds);
    if (ids.removed.length)
      add('vfio-ids-removed', 'regression', `vfio-pci ids no longer include ${ids.removed.join(', ')}`);
    if (ids.added.length) add('vfio-ids-added', 'change', `vfio-pci ids now include ${ids.added.join(', ')}`);
    const bl = setDiff(ob.blacklisted, oa.blacklisted);
    if (bl.added.length || bl.removed.length)
      add(
        'blacklist-changed',
        'change',
        `blacklist ${bl.added
          .map((x) => '+' + x)
          .concat(bl.removed.map((x) => '-' + x))
          .join(' ')}`,
      );
  }

  const fresh = newFaults(before, after);
  if ('faults' in fresh && fresh.faults.length) {
    const devices = [...new Set(fresh.faults.map((f) => f.device ?? 'unknown device'))];
    add('new-faults', 'regression', `${fresh.faults.length} new DMA fault(s) from ${devices.join(', ')}`);
  }
  const [lb, la] = [valueOf(before.security.lockdown), valueOf(after.security.lockdown)];
  if (lb && la && lb !== la) add('lockdown-changed', 'change', `lockdown ${lb} -> ${la}`);
  const [sb, sa] = [valueOf(before.security.secureBoot)?.state, valueOf(after.security.secureBoot)?.state];
  if (sb && sa && sb !== sa) add('secure-boot-changed', 'change', `Secure Boot ${sb} -> ${sa}`);

  diffGuests(before, after, add);

  for (const [name, label] of [
    ['cmdline', 'kernel command line'],
    ['pci', 'lspci'],
    ['faults', 'kernel log'],
  ] as const) {
    const b = before[name];
    const a = after[name];
    if (b.status === 'ok' && a.status === 'unknown')
      add('source-lost', 'regression', `${label} was readable before and is not now: ${a.reason}`);
  }
  return { host: after.host, rebooted, changes, regressions: changes.filter((c) => c.impact === 'regression').length };
}

/** Guests: one that ran before and does not now, host devices that moved, node devices libvirt lost. */
function diffGuests(
  before: HostSnapshot,
  after: HostSnapshot,
  add: (kind: string, impact: ChangeImpact, message: string, device?: string) => void,
): void {
  const [gb, ga] = [before.guests && valueOf(before.guests), after.guests && valueOf(after.guests)];
  if (!gb || !ga) return;
  if (gb.libvirt && !ga.libvirt) {
    add('libvirt-gone', 'regression', 'virsh was installed before and is not now');
    return;
  }
  const A = new Map(ga.domains.map((d) => [d.name, d]));
  for (const b of gb.domains) {
    const a = A.get(b.name);
    if (!a) {
      add(
        'guest-gone',
        isRunning(b) ? 'regression' : 'change',
        `guest ${b.name} (${b.state} before) is no longer defined`,
      );
      continue;
    }
    if (isRunning(b) && !isRunning(a))
      add(
        'guest-stopped',
        'regression',
        `guest ${b.name} ran before and is ${a.state}${a.reason ? ` (${a.reason})` : ''} now`,
      );
    else if (!isRunning(b) && isRunning(a))
      add('guest-started', 'change', `guest ${b.name} was ${b.state} and runs now`);
    const devs = setDiff(
      b.hostdevs.map((h) => h.address),
      a.hostdevs.map((h) => h.address),
    );
    if (devs.added.length || devs.removed.length)
      add(
        'guest-hostdevs-changed',
        'change',
        `guest ${b.name} host devices ${devs.added
          .map((x) => '+' + x)
          .concat(devs.removed.map((x) => '-' + x))
          .join(' ')}`,
      );
  }
  const known = new Set(gb.domains.map((d) => d.name));
  for (const a of ga.domains)
    if (!known.has(a.name)) add('guest-defined', 'change', `guest ${a.name} is defined now (${a.state})`);
  if (gb.nodeDevices && ga.nodeDevices) {
    const lost = setDiff(gb.nodeDevices, ga.nodeDevices).removed;
    if (lost.length) add('node-devices-lost', 'regression', `libvirt no longer enumerates ${lost.join(', ')}`);
  }
}
