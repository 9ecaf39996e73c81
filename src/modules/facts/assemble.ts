/**
 * Sections of the collection script's output -> HostSnapshot. Pure: every source goes through its parser, a
 * section that failed becomes `unknown` with the reason the host gave (exit status, stderr), never a default.
 */
import { known, unknown, type Known } from './known.js';
import type { SectionResult } from './script.js';
import type { HostSnapshot, ProfileFacts, SourceStatus } from './snapshot.js';
import { parseCmdline } from './parsers/cmdline.js';
import { parseDmesgIommu } from './parsers/dmesg-iommu.js';
import { parseDmaFaults } from './parsers/dma-faults.js';
import { parseLspciNnk } from './parsers/lspci-nnk.js';
import { parseLspciVv } from './parsers/lspci-vv.js';
import { parseIommuGroups, parseIommuGroupTypes } from './parsers/iommu-groups.js';
import { parseLsmod } from './parsers/lsmod.js';
import { parseInitramfsList, parseModulesBuiltin } from './parsers/initramfs-list.js';
import { parseModprobeD } from './parsers/modprobe-d.js';
import { parseModuleLoadConfig } from './parsers/module-load-config.js';
import { parseInterrupts } from './parsers/interrupts.js';
import { parseMeminfoHugepages } from './parsers/meminfo.js';
import { parseCpuFlags } from './parsers/cpuinfo.js';
import { parseDevVfio } from './parsers/dev-vfio.js';
import { parseLockdown, parseSecureBoot, parseTainted, parseSecurityLog } from './parsers/security.js';
import { parseSwiotlb } from './parsers/swiotlb.js';
import { parseDmi, hardwareKind } from './parsers/dmi.js';
import { parseIommuParams } from './parsers/iommu-params.js';
import { parseProcStat, parseSoftirqs, softirqShare } from './parsers/cpu-softirq.js';
import { parsePsThreads } from './parsers/ps-threads.js';
import { parsePerfReport } from './parsers/perf-report.js';
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

export function assembleSnapshot(sections: Map<string, SectionResult>, meta: AssembleMeta): HostSnapshot {
  const read = <T>(name: string, parse: (text: string) => T | null, empty?: string): Known<T> => {
    const r = sections.get(name);
    const why = reasonOf(name, r, meta.sectionTimeoutSec);
    if (why !== null) return unknown(why);
    if (empty !== undefined && r!.stdout.trim() === '') return unknown(empty);
    const v = parse(r!.stdout);
    return v === null ? unknown(`${name}: output not recognised: ${tail(r!.stdout, 120)}`) : known(v);
  };

  const dmesgText = sections.get('dmesg')?.stdout ?? '';
  const first = /^# first: (.*)$/m.exec(dmesgText)?.[1] ?? '';
  const logBody = dmesgText.replace(/^# first: .*\n?/m, '');
  const fromDmesg = <T>(parse: (t: string) => T): Known<T> => read('dmesg', () => parse(logBody));
  const view: LogView = { log: fromDmesg(parseDmesgIommu), hasBootMessages: /^\[\s*0\.0+\]|Linux version/.test(first) };

  const groups = read('iommu_groups', parseIommuGroups);
  const groupTypes = read('iommu_group_types', parseIommuGroupTypes);
  const params = read('iommu_params', parseIommuParams);
  const cpu = read('cpuinfo', parseCpuFlags, 'no vendor or flags line in /proc/cpuinfo');
  const interrupts = read('interrupts', parseInterrupts);
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
    privileged: read('whoami', (t) => (/^\d+$/.test(t.trim()) ? t.trim() === '0' : null)),
    kernelRelease: read('kernel_release', (t) => t.trim() || null),
    bootId: read('boot_id', (t) => t.trim() || null),
    hardware: read('dmi', (t) => {
      const dmi = parseDmi(t);
      return { ...dmi, kind: hardwareKind(dmi) };
    }),
    cmdline: read('cmdline', parseCmdline),
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
    pci: read('lspci', parseLspciNnk),
    pciCapabilities: pt ? read('lspci_vv', parseLspciVv) : unknown(noPassthrough),
    pciPaths: pt ? read('pci_paths', parsePciPaths) : unknown(noPassthrough),
    modules: {
      loaded: read('modules', parseLsmod),
      builtin: read('modules_builtin', parseModulesBuiltin),
      initramfs: read('initramfs', parseInitramfsList),
      loadConfig: read('module_load_config', parseModuleLoadConfig),
      modprobe: read('modprobe_d', parseModprobeD),
    },
    interrupts,
    hugepages: read('meminfo', parseMeminfoHugepages),
    devVfio: read('dev_vfio', parseDevVfio),
    security: {
      lockdown: read('lockdown', parseLockdown),
      secureBoot: read('secure_boot', parseSecureBoot),
      tainted: read('tainted', parseTainted),
      log: fromDmesg(parseSecurityLog),
    },
    swiotlb: read('dmesg', (t) =>
      parseSwiotlb(t.replace(/^# first: .*\n?/m, ''), sections.get('swiotlb_debugfs')?.stdout ?? ''),
    ),
    faults: fromDmesg(parseDmaFaults),
    previousBoot: read('dmesg_previous_boot', (t) => ({ iommu: parseDmesgIommu(t), faults: parseDmaFaults(t) })),
    sources,
  };
  if (meta.profileSeconds > 0) snap.profile = assembleProfile(sections, meta, read);
  return snap;
}

/** `0000:01:00.0 /sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0` -> { '0000:01:00.0': ['0000:00:01.0'] }. */
export function parsePciPaths(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of text.split('\n')) {
    const [addr, path] = line.trim().split(/\s+/);
    if (!addr || !path) continue;
    out[addr] = path.split('/').filter((p) => /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(p) && p !== addr);
  }
  return out;
}

function assembleProfile(
  sections: Map<string, SectionResult>,
  meta: AssembleMeta,
  read: <T>(name: string, parse: (text: string) => T | null, empty?: string) => Known<T>,
): ProfileFacts {
  const halves = (name: string) =>
    read(name, (t) => {
      const [stat, soft] = t.split('@@softirqs');
      return { stat: parseProcStat(stat ?? ''), softirqs: parseSoftirqs(soft ?? '') };
    });
  const before = halves('profile_before');
  const after = halves('profile_after');
  const both = before.status === 'ok' && after.status === 'ok' ? { b: before.value, a: after.value } : null;
  const reason = before.status === 'unknown' ? before.reason : after.status === 'unknown' ? after.reason : '';
  const counts: Record<string, number[]> = {};
  if (both)
    for (const [type, a] of Object.entries(both.a.softirqs.counts))
      counts[type] = a.map((x, i) => x - (both.b.softirqs.counts[type]?.[i] ?? 0));
  void sections;
  return {
    seconds: meta.profileSeconds,
    softirqShare: both ? known(softirqShare(both.b.stat, both.a.stat)) : unknown(reason),
    softirqs: both ? known({ cpus: both.a.softirqs.cpus, counts }) : unknown(reason),
    threads: read('threads', parsePsThreads),
    perf: read('perf', parsePerfReport),
  };
}
