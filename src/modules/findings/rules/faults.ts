/** Layer 4: DMA faults and reset behaviour. */
import { cannot, fail, pass, type Rule } from '../finding.js';
import { passthroughDevices } from '../context.js';
import type { DmaFault } from '../../facts/parsers/dma-faults.js';

function byDevice(faults: DmaFault[]): Map<string, DmaFault[]> {
  const m = new Map<string, DmaFault[]>();
  for (const f of faults) m.set(f.device ?? 'unknown device', [...(m.get(f.device ?? 'unknown device') ?? []), f]);
  return m;
}

function summary(f: DmaFault): string {
  return [
    f.kind === 'interrupt' ? 'interrupt' : `DMA ${f.access}`,
    f.address ? `at ${f.address}` : '',
    f.reason ? `(${f.reason})` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

export const faultRules: Rule[] = [
  {
    id: 'faults.dma-fault',
    layer: 'faults',
    severity: 'error',
    title: 'the IOMMU blocked DMA or interrupt requests in this boot',
    guide: 'guide 1, task 14; guide 2, task 14',
    decision:
      'Stop tuning: find the device, driver and workload. Faults at VM start point to reset state or a missing companion function; under load to driver or firmware bugs. iommu=pt would hide this, not fix it.',
    evaluate({ snap, desired }) {
      const f = snap.faults;
      if (f.status !== 'ok') return cannot(f.reason);
      const pt = new Set(
        snap.pci.status === 'ok' ? passthroughDevices(snap.pci.value, desired).map((d) => d.address) : [],
      );
      return fail(
        ...[...byDevice(f.value)].map(([device, list]) => ({
          message: `${list.length} fault${list.length > 1 ? 's' : ''} from ${device}${pt.has(device) ? ' (a passthrough device)' : ''}: ${summary(list[0]!)}`,
          evidence: list.slice(0, 5).map((x) => `dmesg: ${x.line.split('\n').join(' / ')}`),
          device,
        })),
      );
    },
  },
  {
    id: 'faults.previous-boot',
    layer: 'faults',
    severity: 'warning',
    title: 'the previous boot logged DMA faults',
    guide: 'guide 2, task 7',
    decision:
      'Compare with this boot: faults that vanished after a change may only have become silent (for example under iommu=pt).',
    evaluate({ snap }) {
      const p = snap.previousBoot;
      if (p.status !== 'ok') return cannot(p.reason);
      return fail(
        ...[...byDevice(p.value.faults)].map(([device, list]) => ({
          message: `${list.length} fault${list.length > 1 ? 's' : ''} from ${device} in the previous boot`,
          evidence: list.slice(0, 3).map((x) => `journalctl -k -b -1: ${x.line.split('\n').join(' / ')}`),
          device,
        })),
      );
    },
  },
  {
    id: 'faults.no-flr',
    layer: 'faults',
    severity: 'warning',
    title: 'a passthrough device does not advertise Function Level Reset',
    guide: 'guide 2, task 15 and FAQ 5',
    decision:
      'Expect trouble on the second VM start: avoid frequent guest restarts, plan a host reboot between assignments, or prefer hardware that resets cleanly.',
    evaluate({ snap, desired }) {
      if (!desired.passthroughIds.length) return pass;
      if (snap.pci.status !== 'ok') return cannot(snap.pci.reason);
      const caps = snap.pciCapabilities;
      if (caps.status !== 'ok') return cannot(caps.reason);
      const byAddr = new Map(caps.value.map((c) => [c.address, c]));
      return fail(
        ...passthroughDevices(snap.pci.value, desired).flatMap((d) => {
          const c = byAddr.get(d.address);
          if (!c || c.accessDenied || c.flr === null || c.flr || c.afFlr) return [];
          return [
            {
              message: `${d.address} [${d.id}] has FLReset-`,
              evidence: c.lines.filter((l) => /DevCap|FLR/.test(l)).map((l) => `lspci -vv -s ${d.address}: ${l}`),
              device: d.address,
            },
          ];
        }),
      );
    },
  },
];
