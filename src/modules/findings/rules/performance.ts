/**
 * Layer 5: the first guide's questions before flipping iommu=pt. Prove the mapping path is hot; rule out a
 * single CPU drowning in softirq or vhost sharing a core with vCPUs, which iommu=pt would not fix.
 */
import { irqDevice } from '../../facts/parsers/interrupts.js';
import type { ProfileFacts } from '../../facts/snapshot.js';
import { cannot, fail, pass, type FindingDraft, type Rule } from '../finding.js';

/** Percent of samples in IOMMU/DMA mapping symbols above which iommu=pt is worth a trial. */
export const MAPPING_HOT_PCT = 5;
/** A CPU spending this share of its time in softirq, and 3x the median, is a pile-up. */
export const SOFTIRQ_HOT_PCT = 30;

/** Affinity problems the profile shows (empty when none; null when the profile cannot tell). */
export function affinityProblems(p: ProfileFacts): FindingDraft[] | null {
  const out: FindingDraft[] = [];
  let known = false;
  if (p.softirqShare.status === 'ok' && p.softirqShare.value.length) {
    known = true;
    const v = p.softirqShare.value.map((s) => s.softPct).sort((a, b) => a - b);
    const median = v[Math.floor(v.length / 2)] ?? 0;
    for (const s of p.softirqShare.value)
      if (s.softPct >= SOFTIRQ_HOT_PCT && s.softPct >= 3 * Math.max(median, 1))
        out.push({
          message: `${s.cpu} spends ${s.softPct}% of its time in softirq (median ${median}%)`,
          evidence: [`/proc/stat over ${p.seconds} s: ${s.cpu} softirq ${s.softPct}%`],
        });
  }
  if (p.threads.status === 'ok') {
    known = true;
    const t = p.threads.value;
    for (const vh of t.filter((x) => x.role === 'vhost')) {
      const clash = t.filter(
        (x) => x.cpu === vh.cpu && (x.role === 'vcpu' || (x.role === 'ksoftirqd' && x.pcpu >= 10)),
      );
      if (clash.length)
        out.push({
          message: `${vh.name} runs on CPU ${vh.cpu} with ${clash.map((c) => c.name).join(', ')}`,
          evidence: [vh, ...clash].map(
            (x) => `ps: ${x.pid}${x.tid !== null ? '/' + x.tid : ''} ${x.name} cpu ${x.cpu} ${x.pcpu}%`,
          ),
        });
    }
  }
  return known ? out : null;
}

export const performanceRules: Rule[] = [
  {
    id: 'perf.swiotlb-in-use',
    layer: 'performance',
    severity: 'warning',
    title: 'devices bounce DMA through SWIOTLB',
    guide: 'guide 1, task 7',
    decision:
      'Bounce buffering is a hidden CPU cost: check DMA addressing limits, "above 4G decoding" in firmware and IOMMU settings.',
    evaluate({ snap }) {
      const s = snap.swiotlb;
      if (s.status !== 'ok') return cannot(s.reason);
      const used = s.value.slabs?.used ?? 0;
      if (!s.value.fullEvents && !used)
        return s.value.slabs || s.value.mappedMb === null
          ? pass
          : cannot('the bounce pool is mapped; its use needs debugfs (root)');
      return fail({
        message: s.value.fullEvents ? `SWIOTLB ran full ${s.value.fullEvents} time(s)` : `${used} SWIOTLB slabs in use`,
        evidence: s.value.lines.slice(0, 3).map((l) => `dmesg: ${l}`),
      });
    },
  },
  {
    id: 'perf.irq-single-cpu',
    layer: 'performance',
    severity: 'warning',
    title: "all of a device's interrupts land on one CPU",
    guide: 'guide 1, task 13',
    decision:
      "Spread the device's IRQ affinity (and RPS/XPS) over CPUs; iommu=pt will not fix a single-core interrupt pile-up.",
    evaluate({ snap }) {
      const i = snap.interrupts;
      if (i.status !== 'ok') return cannot(i.reason);
      if (i.value.cpus < 2) return pass;
      const perDev = new Map<string, number[]>();
      for (const l of i.value.lines.filter(
        (x) => /^\d+$/.test(x.irq) && x.chip && /MSI|IO-APIC/.test(x.chip) && !/timer|acpi|i8042/i.test(x.name),
      )) {
        const dev = irqDevice(l);
        const sum = perDev.get(dev) ?? new Array<number>(i.value.cpus).fill(0);
        l.counts.forEach((c, k) => (sum[k] = (sum[k] ?? 0) + c));
        perDev.set(dev, sum);
      }
      return fail(
        ...[...perDev].flatMap(([dev, counts]) => {
          const total = counts.reduce((a, b) => a + b, 0);
          const max = Math.max(...counts);
          if (total < 10_000 || max / total < 0.95) return [];
          return [
            {
              message: `${dev}: ${Math.round((max / total) * 100)}% of ${total} interrupts on CPU${counts.indexOf(max)}`,
              evidence: [`/proc/interrupts ${dev}: ${counts.join(' ')}`],
              device: dev,
            },
          ];
        }),
      );
    },
  },
  {
    id: 'perf.hugepages-exhausted',
    layer: 'performance',
    severity: 'warning',
    title: 'hugepages are configured and none are free',
    guide: 'guide 1, task 11',
    decision: 'Reserve more hugepages or find who holds them; exhausted hugepages look like "the IOMMU is slow".',
    evaluate({ snap }) {
      const h = snap.hugepages;
      if (h.status !== 'ok') return cannot(h.reason);
      const { total, free, reserved } = h.value;
      if (total === 0 || free - reserved > 0) return pass;
      return fail({
        message: `${total} hugepages, ${free} free, ${reserved} reserved`,
        evidence: [`/proc/meminfo: HugePages_Total ${total} HugePages_Free ${free} HugePages_Rsvd ${reserved}`],
      });
    },
  },
  {
    id: 'perf.fix-affinity-first',
    layer: 'performance',
    severity: 'warning',
    title: 'softirq piles up on one CPU or vhost shares a core with vCPUs',
    guide: 'guide 1, tasks 10 and 12',
    decision: 'Fix CPU pinning and IRQ distribution before touching the IOMMU.',
    evaluate({ snap }) {
      if (!snap.profile) return cannot('no profile: run with --profile');
      const p = affinityProblems(snap.profile);
      if (p === null) return cannot('the profile has neither CPU times nor thread placement');
      return fail(...p);
    },
  },
  {
    id: 'perf.iommu-pt-decision',
    layer: 'performance',
    severity: 'info',
    title: 'whether iommu=pt is a justified experiment on this host',
    guide: 'guide 1, task 9 and "decision point"',
    decision:
      'Only a measured mapping hot spot under a translated domain, with affinity in order, justifies trying iommu=pt on one host.',
    evaluate({ snap }) {
      if (!snap.profile) return cannot('no profile: run with --profile');
      const perf = snap.profile.perf;
      if (perf.status !== 'ok') return cannot(perf.reason);
      const d = snap.iommu.defaultDomain;
      if (d.status === 'ok' && d.value.value === 'passthrough') return pass;
      const hot = perf.value.mappingPct >= MAPPING_HOT_PCT;
      const affinity = affinityProblems(snap.profile) ?? [];
      const evidence = [
        `perf: ${perf.value.mappingPct}% of samples in IOMMU/DMA mapping`,
        ...perf.value.mappingSymbols.slice(0, 4).map((s) => `perf: ${s.pct}% ${s.symbol}`),
      ];
      if (hot && !affinity.length)
        return fail({
          message: `mapping is hot (${perf.value.mappingPct}%) under a ${d.status === 'ok' ? d.value.value : 'translated'} domain: iommu=pt is a justified experiment`,
          evidence,
          decision:
            'Try iommu=pt on one host (if the security model allows), compare CPU and tail latency to this profile, and roll back if there is no clear win.',
        });
      if (hot)
        return fail({
          message: `mapping is hot (${perf.value.mappingPct}%) but affinity problems come first`,
          evidence,
          decision: 'Fix CPU pinning and IRQ distribution first, then profile again before trying iommu=pt.',
        });
      return fail({
        message: `mapping is not hot (${perf.value.mappingPct}% < ${MAPPING_HOT_PCT}%): iommu=pt would optimise a placebo`,
        evidence,
        decision: 'Leave the IOMMU mode alone and look elsewhere (IRQ affinity, queueing, guest drivers).',
      });
    },
  },
];
