/**
 * Every saved output `rollgate facts parse KIND FILE` understands, each mapped to its pure parser. Offline:
 * nothing here touches a host.
 */
import { parseCmdline } from './parsers/cmdline.js';
import { parseDmesgIommu, dmesgDomain } from './parsers/dmesg-iommu.js';
import { parseDmaFaults } from './parsers/dma-faults.js';
import { concludeIommu, describeVerdict, type IommuVerdict } from './parsers/iommu-verdict.js';
import { parseSwiotlb } from './parsers/swiotlb.js';
import { parseSecurityLog, parseLockdown, parseSecureBoot, parseTainted } from './parsers/security.js';
import { parseLspciNnk } from './parsers/lspci-nnk.js';
import { parseLspciVv } from './parsers/lspci-vv.js';
import { parseIommuGroups, parseIommuGroupTypes } from './parsers/iommu-groups.js';
import { parseLsmod } from './parsers/lsmod.js';
import { parseInitramfsList } from './parsers/initramfs-list.js';
import { parseModprobeD } from './parsers/modprobe-d.js';
import { parseModuleLoadConfig } from './parsers/module-load-config.js';
import { parseInterrupts, usesRemapping } from './parsers/interrupts.js';
import { parseMeminfoHugepages } from './parsers/meminfo.js';
import { parseCpuFlags } from './parsers/cpuinfo.js';
import { parseDevVfio } from './parsers/dev-vfio.js';
import { parseSoftirqs, parseMpstat } from './parsers/cpu-softirq.js';
import { parsePsThreads } from './parsers/ps-threads.js';
import { parsePerfReport } from './parsers/perf-report.js';
import { parseIommuParams, domainFromWord } from './parsers/iommu-params.js';
import { parseDmi } from './parsers/dmi.js';

export interface ParseKind {
  description: string;
  parse(text: string): unknown;
  /** Plain-text conclusions printed above the details (not with --json), when the kind draws one. */
  summarize?(result: never): string[];
}

export const parseKinds = {
  cmdline: {
    description: '/proc/cmdline, GRUB_CMDLINE_LINUX[_DEFAULT]= lines, a grub.cfg linux line or "Kernel command line:"',
    parse: parseCmdline,
  },
  dmesg: {
    description: 'dmesg / journalctl -k / syslog kernel lines: IOMMU state, faults, swiotlb, lockdown',
    parse: (t: string) => {
      const iommu = parseDmesgIommu(t);
      const faults = parseDmaFaults(t);
      return {
        conclusion: concludeIommu(iommu, faults),
        iommu,
        domain: dmesgDomain(iommu),
        faults,
        swiotlb: parseSwiotlb(t),
        security: parseSecurityLog(t),
      };
    },
    summarize: (r: { conclusion: IommuVerdict }) => describeVerdict(r.conclusion),
  },
  faults: { description: 'DMA / interrupt remapping fault lines from any kernel log', parse: parseDmaFaults },
  lspci: { description: 'lspci -nnk (or -Dnnk, -nn, -k)', parse: parseLspciNnk },
  'lspci-vv': { description: 'lspci -vv: ACS, FLR, ARI, port type', parse: parseLspciVv },
  'iommu-groups': {
    description: 'IOMMU group listing: sysfs paths, "IOMMU Group N:" or "### Group N ###" script output',
    parse: parseIommuGroups,
  },
  'iommu-group-types': { description: 'grep -H . /sys/kernel/iommu_groups/*/type', parse: parseIommuGroupTypes },
  'iommu-params': {
    description: '/sys/module/iommu/parameters/* (grep -H . or a bare default_domain value)',
    parse: (t: string) => {
      const params = parseIommuParams(t);
      return { params, domain: params.default_domain ? domainFromWord(params.default_domain) : null };
    },
  },
  lsmod: { description: 'lsmod or /proc/modules', parse: parseLsmod },
  initramfs: { description: 'lsinitramfs IMAGE or lsinitrd', parse: parseInitramfsList },
  modprobe: { description: '/etc/modprobe.d contents (plain or grep -H/-R output)', parse: parseModprobeD },
  'module-load': {
    description: 'grep -H . /etc/initramfs-tools/modules /etc/modules /etc/modules-load.d/*.conf',
    parse: parseModuleLoadConfig,
  },
  interrupts: {
    description: '/proc/interrupts',
    parse: (t: string) => {
      const i = parseInterrupts(t);
      return { ...i, remapped: usesRemapping(i) };
    },
  },
  meminfo: { description: '/proc/meminfo hugepage lines', parse: parseMeminfoHugepages },
  cpuinfo: { description: '/proc/cpuinfo', parse: parseCpuFlags },
  'dev-vfio': { description: 'ls -l /dev/vfio', parse: parseDevVfio },
  lockdown: { description: '/sys/kernel/security/lockdown', parse: (t: string) => ({ mode: parseLockdown(t) }) },
  'secure-boot': { description: 'mokutil --sb-state', parse: parseSecureBoot },
  tainted: { description: '/proc/sys/kernel/tainted', parse: parseTainted },
  softirqs: { description: '/proc/softirqs', parse: parseSoftirqs },
  mpstat: { description: 'mpstat -P ALL (the %soft column)', parse: parseMpstat },
  ps: { description: 'ps -eLo pid,tid,psr,pcpu,comm or ps -eo pid,comm,pcpu,psr,...', parse: parsePsThreads },
  perf: { description: 'perf report --stdio / perf top lines', parse: parsePerfReport },
  dmi: { description: 'grep -H . /sys/class/dmi/id/*', parse: parseDmi },
  uname: { description: 'uname -r', parse: (t: string) => ({ release: t.trim() }) },
} satisfies Record<string, ParseKind>;

export type ParseKindName = keyof typeof parseKinds;

export function isParseKind(name: string): name is ParseKindName {
  return Object.hasOwn(parseKinds, name);
}
