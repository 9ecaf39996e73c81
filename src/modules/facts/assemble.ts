/**
 * Sections of the collection script's output -> HostSnapshot. Pure: every source goes through its parser, a
 * section that failed becomes `unknown` with the reason the host gave (exit status, stderr), never a default.
 */
import { known, unknown, type Known } from './known.js';
import type { SectionResult } from './script.js';
import type { HostSnapshot, ProfileFacts, SourceStatus } from './snapshot.js';
import { parseDmesgIommu } from './parsers/dmesg-iommu.js';
import { parseDmaFaults } from './parsers/dma-faults.js';
import { parseSecurityLog } from './parsers/security.js';
import { parseSwiotlb } from './parsers/swiotlb.js';
import { softirqShare } from './parsers/cpu-softirq.js';
import { facts, type FactName } from './registry.js';
import type { FactDefinition } from './fact.js';
import { deriveActive, deriveDefaultDomain, deriveInterruptRemapping, deriveVendor, type LogView } from './derive.js';

export interface AssembleMeta {
  host: string;
  collectedAt: string;
  durationMs: number;
  sectionTimeoutSec: number;
  profileSeconds: number;
  passthroughIds: string[];
}

function tail(s: string, n: number): string {
  const t = s.trim();
  return t.length > n ? '…' + t.slice(t.length - n) : t;
}

/** Why a section gave nothing usable, in the host's own words where it said any. */
function reasonOf(name: string, r: SectionResult | undefined, timeoutSec: number): string | null {
  if (!r) return `the collection script did not report ${name} (its output was cut short)`;
  if (r.exitCode === 0) return null;
  const said = tail(r.stderr, 300);
  if (r.exitCode === 124 || r.exitCode === 137) return `${name} did not finish within ${timeoutSec} s`;
  if (r.exitCode === 127) return said || `${name}: command not found`;
  return said ? said : `${name} exited with status ${r.exitCode} and said nothing`;
}

type Parsed<N extends FactName> = (typeof facts)[N] extends FactDefinition<infer T> ? T : never;
type Read = <T>(name: string, parse: (text: string) => T | null, empty?: string) => Known<T>;

export function assembleSnapshot(sections: Map<string, SectionResult>, meta: AssembleMeta): HostSnapshot {
  const used = new Set<string>();
  const read: Read = (name, parse, empty) => {
    used.add(name);
    const r = sections.get(name);
    const why = reasonOf(name, r, meta.sectionTimeoutSec);
    if (why !== null || !r) return unknown(why ?? '');
    if (empty !== undefined && r.stdout.trim() === '') return unknown(empty);
    const v = parse(r.stdout);
    return v === null ? unknown(`${name}: output not recognised: ${tail(r.stdout, 120)}`) : known(v);
  };
  /** A section through its fact's own parser (registry.ts). */
  const fact = <N extends FactName>(name: N, empty?: string): Known<Parsed<N>> =>
    read(name, facts[name].parse as (text: string) => Parsed<N> | null, empty);

  const dmesgText = sections.get('dmesg')?.stdout ?? '';
  const swiotlbDebugfs = () => {
    used.add('swiotlb_debugfs');
    return sections.get('swiotlb_debugfs')?.stdout ?? '';
  };
  const first = /^# first: (.*)$/m.exec(dmesgText)?.[1] ?? '';
  const logBody = dmesgText.replace(/^# first: .*\n?/m, '');
  const fromDmesg = <T>(parse: (t: string) => T): Known<T> => read('dmesg', () => parse(logBody));
  const view: LogView = { log: fromDmesg(parseDmesgIommu), hasBootMessages: /^\[\s*0\.0+\]|Linux version/.test(first) };

  const groups = fact('iommu_groups');
  const groupTypes = fact('iommu_group_types');
  const params = fact('iommu_params');
  const cpu = fact('cpuinfo', 'no vendor or flags line in /proc/cpuinfo');
  const interrupts = fact('interrupts');
  const active = deriveActive(view, groups);
  const pt = meta.passthroughIds.length > 0;
  const noPassthrough = 'no passthrough_devices were given for this host';

  const sources: Record<string, SourceStatus> = {};
  for (const [name, r] of sections)
    sources[name] = r.stderr.trim() ? { exitCode: r.exitCode, stderr: tail(r.stderr, 500) } : { exitCode: r.exitCode };

  const snap: HostSnapshot = {
    schemaVersion: 1,
    host: meta.host,
    collectedAt: meta.collectedAt,
    durationMs: meta.durationMs,
    privileged: fact('whoami'),
    kernelRelease: fact('kernel_release'),
    bootId: fact('boot_id'),
    hardware: fact('dmi'),
    cmdline: fact('cmdline'),
    cpu,
    iommu: {
      log: view.log,
      params,
      groups,
      groupTypes,
      vendor: deriveVendor(view, groups, cpu),
      active,
      defaultDomain: deriveDefaultDomain(active, groupTypes, params, view),
      interruptRemapping: deriveInterruptRemapping(view, interrupts),
    },
    pci: fact('lspci'),
    pciCapabilities: pt ? fact('lspci_vv') : unknown(noPassthrough),
    pciPaths: pt ? fact('pci_paths') : unknown(noPassthrough),
    modules: {
      loaded: fact('modules'),
      builtin: fact('modules_builtin'),
      initramfs: fact('initramfs'),
      loadConfig: fact('module_load_config'),
      modprobe: fact('modprobe_d'),
    },
    interrupts,
    hugepages: fact('meminfo'),
    devVfio: fact('dev_vfio'),
    security: {
      lockdown: fact('lockdown'),
      secureBoot: fact('secure_boot'),
      tainted: fact('tainted'),
      log: fromDmesg(parseSecurityLog),
    },
    swiotlb: read('dmesg', (t) => parseSwiotlb(t.replace(/^# first: .*\n?/m, ''), swiotlbDebugfs())),
    faults: fromDmesg(parseDmaFaults),
    previousBoot: fact('dmesg_previous_boot'),
    guests: fact('guests'),
    sources,
  };
  if (meta.profileSeconds > 0) snap.profile = assembleProfile(meta, fact);
  // A registered fact the snapshot does not place above is kept under `facts`, parsed by its own parser.
  const unplaced = [...sections.keys()].filter((name) => !used.has(name) && Object.hasOwn(facts, name));
  if (unplaced.length > 0)
    snap.facts = Object.fromEntries(unplaced.map((name) => [name, fact(name as FactName) as Known<unknown>]));
  return snap;
}

function assembleProfile(meta: AssembleMeta, fact: <N extends FactName>(name: N) => Known<Parsed<N>>): ProfileFacts {
  const before = fact('profile_before');
  const after = fact('profile_after');
  const both = before.status === 'ok' && after.status === 'ok' ? { b: before.value, a: after.value } : null;
  const reason = before.status === 'unknown' ? before.reason : after.status === 'unknown' ? after.reason : '';
  const counts: Record<string, number[]> = {};
  if (both)
    for (const [type, a] of Object.entries(both.a.softirqs.counts))
      counts[type] = a.map((x, i) => x - (both.b.softirqs.counts[type]?.[i] ?? 0));
  return {
    seconds: meta.profileSeconds,
    softirqShare: both ? known(softirqShare(both.b.stat, both.a.stat)) : unknown(reason),
    softirqs: both ? known({ cpus: both.a.softirqs.cpus, counts }) : unknown(reason),
    threads: fact('threads'),
    perf: fact('perf'),
  };
}
