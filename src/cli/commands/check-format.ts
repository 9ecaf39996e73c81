/** The readable per-host summary of `rollgate check`. */
import type { HostCheck } from '../../executor/check-run.js';
import type { HostOutcome } from '../../executor/fleet.js';
import type { Known } from '../../modules/facts/known.js';
import type { GuestsView } from '../../modules/facts/parsers/libvirt.js';

const MARK = { error: 'ERROR', warning: 'WARN ', info: 'info ' } as const;

function show<T>(k: Known<T>, f: (v: T) => string): string {
  return k.status === 'ok' ? f(k.value) : `unknown (${k.reason})`;
}

export function formatCheck(outcomes: HostOutcome<HostCheck>[]): string {
  const out: string[] = [];
  for (const o of outcomes) {
    if (!o.value) {
      out.push(`${o.host}: ${o.status}${o.kind ? ` (${o.kind})` : ''}: ${o.message ?? ''}`, '');
      continue;
    }
    const { snapshot: s, report: r } = o.value;
    out.push(`${o.host}: ${r.summary}`);
    out.push(`  kernel ${show(s.kernelRelease, (v) => v)}; hardware ${show(s.hardware, (v) => v.kind ?? '?')}`);
    out.push(
      `  IOMMU ${show(s.iommu.vendor, (v) => v.value)}, active ${show(s.iommu.active, (v) => String(v.value))}, default domain ${show(s.iommu.defaultDomain, (v) => v.value)}, interrupt remapping ${show(s.iommu.interruptRemapping, (v) => (v.value.enabled ? 'on' : 'off'))}`,
    );
    if (s.guests) out.push(`  guests ${show(s.guests, describeGuests)}`);
    for (const f of r.findings) {
      out.push(`  ${MARK[f.severity]} [${f.layer}] ${f.rule}: ${f.message}`);
      for (const e of f.evidence.slice(0, 3)) out.push(`         ${e}`);
      out.push(`         -> ${f.decision} (${f.guide})`);
    }
    if (r.undecided.length) {
      out.push(`  could not decide ${r.undecided.length} check(s):`);
      for (const u of r.undecided) out.push(`    ${u.rule}: ${u.reason}`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** One line: each domain with its state and host devices, then how many PCI devices libvirt enumerates. */
export function describeGuests(g: GuestsView): string {
  if (!g.libvirt) return 'none (virsh not installed)';
  const doms = g.domains.map(
    (d) =>
      `${d.name} ${d.state}${d.hostdevs.length ? ` [${d.hostdevs.map((h) => `${h.address}${h.managed ? '' : ' unmanaged'}`).join(', ')}]` : ''}`,
  );
  const nodes = g.nodeDevices
    ? `${g.nodeDevices.length} PCI node devices`
    : `node devices unknown (${g.nodeDevicesError ?? '?'})`;
  return `(${g.uri ?? 'default URI'}): ${doms.length ? doms.join('; ') : 'no domains'}; ${nodes}`;
}
