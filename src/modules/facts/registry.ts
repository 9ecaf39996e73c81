/**
 * Every fact rollgate reads, by name: the only list of them. Each entry is a command and the parser of its output
 * (parsers/). The collection script runs the commands in this order (sources.ts), the snapshot parses each
 * section with its entry's parser (assemble.ts; a fact the snapshot does not place lands in `facts`), and
 * `rollgate facts parse` offers every entry with a `cli` kind (parse-kinds.ts). Adding a fact: its parser in
 * parsers/, one entry here.
 */
import { raw, sh } from '../../connection/shell-quote.js';
import { defineFact, type FactDefinition } from './fact.js';
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
import { parseInitramfsList, parseModulesBuiltin } from './parsers/initramfs-list.js';
import { parseModprobeD } from './parsers/modprobe-d.js';
import { parseModuleLoadConfig } from './parsers/module-load-config.js';
import { parseInterrupts, usesRemapping } from './parsers/interrupts.js';
import { parseMeminfoHugepages } from './parsers/meminfo.js';
import { parseCpuFlags } from './parsers/cpuinfo.js';
import { parseDevVfio } from './parsers/dev-vfio.js';
import { parseProcStat, parseSoftirqs, parseMpstat } from './parsers/cpu-softirq.js';
import { parsePsThreads } from './parsers/ps-threads.js';
import { parsePerfReport } from './parsers/perf-report.js';
import { parseIommuParams, domainFromWord } from './parsers/iommu-params.js';
import { parseDmi, hardwareKind } from './parsers/dmi.js';
import { parsePciPaths } from './parsers/pci-address.js';
import { parseDomainXml, parseGuestsSection, parseNodedevList, parseVirshList } from './parsers/libvirt.js';

const KERNEL_LOG_FILTER =
  'DMAR|IOMMU|AMD-Vi|SMMU|remapping|x2apic|vfio|Default domain|invalidation policy|swiotlb|software IO TLB|bounce buffering|Lockdown|locked down|Secure boot|module verification|unsigned module|PKCS#7|Required key|Event logged|fault addr|fault index|fault reason|context fault|PCI-DMA|ACS';

const trimmed = (t: string) => t.trim() || null;
const lspciMissing = 'command -v lspci >/dev/null || { echo "lspci not installed (pciutils)" >&2; exit 127; }';
/** The PCI addresses of the passthrough ids, as a shell command. */
const passthroughAddresses = (ids: string[]) => sh`for id in ${ids}; do lspci -Dn -d "$id" | cut -d' ' -f1; done`;
/**
 * The guests section (parsers/libvirt.ts parseGuestsSection), after `u=URI;` (empty: virsh's default URI). virsh
 * missing is not an error (a host without libvirt has no guests); libvirt present but not answering is.
 */
const GUESTS_SCRIPT = [
  'command -v virsh >/dev/null || { echo "# no-libvirt: virsh not installed"; exit 0; }',
  'v() { if [ -n "$u" ]; then virsh -q -c "$u" "$@"; else virsh -q "$@"; fi; }',
  // No daemon socket at all: no libvirt daemon runs or is socket-activated here, so no libvirt guest runs either.
  'names=$(v list --all --name 2>&1) || { case "$names" in *"Failed to connect socket to"*"No such file or directory"*) echo "# no-libvirt: no libvirt daemon: $(printf "%s" "$names" | tr "\\n" " ")"; exit 0;; esac; printf "%s\\n" "$names" | tr "\\n" " " >&2; exit 1; }',
  'echo "# uri $u"',
  'if out=$(v nodedev-list 2>&1); then echo "@@nodedev"; printf "%s\\n" "$out"; else echo "@@nodedev-error $(printf "%s" "$out" | tr "\\n" " ")"; fi',
  'printf "%s\\n" "$names" | while IFS= read -r n; do [ -n "$n" ] || continue; st=$(v domstate --reason -- "$n" 2>&1); echo "@@domain $n"; echo "@@state"; printf "%s\\n" "$st"; echo "@@xml"; v dumpxml -- "$n" 2>/dev/null; case "$u:$st" in :running*|qemu:///system:running*|:paused*|qemu:///system:paused*) f="/run/libvirt/qemu/$n.pid"; [ -r "$f" ] && echo "@@pid $(cat "$f")";; esac; case "$st" in *failed*|crashed*) f="/var/log/libvirt/qemu/$n.log"; e=$([ -r "$f" ] && grep -aiE "error|fail" "$f" | grep -av "shutting down, reason=" | tail -n 1); if [ -n "$e" ]; then echo "@@lasterror $f: $e"; else e=$(journalctl -b -q --no-pager -p err -o short-iso -u libvirtd.service -u virtqemud.service 2>/dev/null | tail -n 1); [ -n "$e" ] && echo "@@lasterror libvirt journal: $e"; fi;; esac; done',
  'find /proc/[0-9]*/fd -lname "/dev/vfio/*" -printf "%h %l\\n" 2>/dev/null | sort -u | while read -r d l; do p=${d#/proc/}; p=${p%/fd}; echo "@@vfio $p $(cat /proc/$p/comm 2>/dev/null) $l"; done',
  'exit 0',
].join('\n');

/** /proc/stat and /proc/softirqs, before or after the profile window. */
const statAndSoftirqs = defineFact({
  when: 'profile',
  command: () => raw('cat /proc/stat; echo "@@softirqs"; cat /proc/softirqs'),
  parse: (t) => {
    const [stat, soft] = t.split('@@softirqs');
    return { stat: parseProcStat(stat ?? ''), softirqs: parseSoftirqs(soft ?? '') };
  },
});

export const facts = {
  whoami: defineFact({
    instant: true,
    command: () => raw('id -u'),
    parse: (t) => (/^\d+$/.test(t.trim()) ? t.trim() === '0' : null),
  }),
  kernel_release: defineFact({
    instant: true,
    command: () => raw('uname -r'),
    parse: trimmed,
    cli: { kind: 'uname', description: 'uname -r', parse: (t) => ({ release: t.trim() }) },
  }),
  boot_id: defineFact({ instant: true, command: () => raw('cat /proc/sys/kernel/random/boot_id'), parse: trimmed }),
  cmdline: defineFact({
    instant: true,
    command: () => raw('cat /proc/cmdline'),
    parse: parseCmdline,
    cli: {
      kind: 'cmdline',
      description:
        '/proc/cmdline, GRUB_CMDLINE_LINUX[_DEFAULT]= lines, a grub.cfg linux line or "Kernel command line:"',
    },
  }),
  dmi: defineFact({
    command: () =>
      raw(
        '[ -r /sys/class/dmi/id/product_name ] || { echo "no DMI table (/sys/class/dmi/id/product_name missing)" >&2; exit 2; }; cd /sys/class/dmi/id && grep -H . sys_vendor product_name product_version board_name 2>/dev/null | sed "s|^|/sys/class/dmi/id/|"; exit 0',
      ),
    parse: (t) => {
      const dmi = parseDmi(t);
      return { ...dmi, kind: hardwareKind(dmi) };
    },
    cli: { kind: 'dmi', description: 'grep -H . /sys/class/dmi/id/*', parse: parseDmi },
  }),
  cpuinfo: defineFact({
    instant: true,
    command: () => raw("grep -m 4 -E '^(vendor_id|model name|flags|Features)[[:space:]]*:' /proc/cpuinfo"),
    parse: parseCpuFlags,
    cli: { kind: 'cpuinfo', description: '/proc/cpuinfo' },
  }),
  // dmesg may be restricted (dmesg_restrict=1) without root: fail the section rather than print nothing.
  dmesg: defineFact({
    command: () =>
      sh`out=$(dmesg 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }; printf '%s\n' "$out" | head -n 1 | sed 's/^/# first: /'; printf '%s\n' "$out" | grep -aiE ${KERNEL_LOG_FILTER} | head -n 5000; exit 0`,
    parse: (t) => kernelLogView(t.replace(/^# first: .*\n?/m, '')),
    cli: {
      kind: 'dmesg',
      description: 'dmesg / journalctl -k / syslog kernel lines: IOMMU state, faults, swiotlb, lockdown',
      parse: (t: string) => {
        const view = kernelLogView(t);
        return { conclusion: concludeIommu(view.iommu, view.faults), ...view };
      },
      summarize: (r: { conclusion: IommuVerdict }) => describeVerdict(r.conclusion),
    },
  }),
  dmesg_previous_boot: defineFact({
    command: () =>
      sh`command -v journalctl >/dev/null || { echo 'journalctl not installed' >&2; exit 127; }; out=$(journalctl -k -b -1 --no-pager -q 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }; printf '%s\n' "$out" | grep -aiE ${KERNEL_LOG_FILTER} | head -n 5000; exit 0`,
    parse: (t) => ({ iommu: parseDmesgIommu(t), faults: parseDmaFaults(t) }),
  }),
  iommu_params: defineFact({
    command: () =>
      raw(
        'd=/sys/module/iommu/parameters; [ -d $d ] || { echo "$d does not exist on this kernel" >&2; exit 3; }; grep -H . $d/* 2>&1; exit 0',
      ),
    parse: parseIommuParams,
    cli: {
      kind: 'iommu-params',
      description: '/sys/module/iommu/parameters/* (grep -H . or a bare default_domain value)',
      parse: (t) => {
        const params = parseIommuParams(t);
        return { params, domain: params.default_domain ? domainFromWord(params.default_domain) : null };
      },
    },
  }),
  iommu_groups: defineFact({
    command: () =>
      raw(
        '[ -d /sys/kernel/iommu_groups ] || { echo "/sys/kernel/iommu_groups does not exist (kernel built without IOMMU support)" >&2; exit 3; }; for f in /sys/kernel/iommu_groups/*/devices/*; do [ -e "$f" ] && echo "$f"; done; exit 0',
      ),
    parse: parseIommuGroups,
    cli: {
      kind: 'iommu-groups',
      description: 'IOMMU group listing: sysfs paths, "IOMMU Group N:" or "### Group N ###" script output',
    },
  }),
  iommu_group_types: defineFact({
    command: () => raw('grep -Hs . /sys/kernel/iommu_groups/*/type; exit 0'),
    parse: parseIommuGroupTypes,
    cli: { kind: 'iommu-group-types', description: 'grep -H . /sys/kernel/iommu_groups/*/type' },
  }),
  lspci: defineFact({
    command: () => raw(`${lspciMissing}; lspci -Dnnk`),
    parse: parseLspciNnk,
    cli: { kind: 'lspci', description: 'lspci -nnk (or -Dnnk, -nn, -k)' },
  }),
  modules: defineFact({
    instant: true,
    command: () => raw('cat /proc/modules'),
    parse: parseLsmod,
    cli: { kind: 'lsmod', description: 'lsmod or /proc/modules' },
  }),
  modules_builtin: defineFact({
    command: () =>
      raw(
        'f=/lib/modules/$(uname -r)/modules.builtin; [ -r "$f" ] || { echo "$f not readable" >&2; exit 2; }; grep -E "vfio|kvm|vhost|iommu" "$f"; exit 0',
      ),
    parse: parseModulesBuiltin,
  }),
  initramfs: defineFact({
    command: () =>
      raw(
        'k=$(uname -r); if command -v lsinitramfs >/dev/null; then i=/boot/initrd.img-$k; [ -r "$i" ] || { echo "$i not readable" >&2; exit 2; }; echo "# image $i"; lsinitramfs "$i" | grep -E "\\.ko" ; exit 0; elif command -v lsinitrd >/dev/null; then lsinitrd | grep -E "^Image:|^Version:|\\.ko"; exit 0; else echo "neither lsinitramfs nor lsinitrd installed" >&2; exit 127; fi',
      ),
    parse: parseInitramfsList,
    cli: { kind: 'initramfs', description: 'lsinitramfs IMAGE or lsinitrd' },
  }),
  module_load_config: defineFact({
    command: () =>
      raw(
        'grep -Hs . /etc/initramfs-tools/modules /etc/modules /etc/modules-load.d/*.conf /etc/dracut.conf.d/*.conf; exit 0',
      ),
    parse: parseModuleLoadConfig,
    cli: {
      kind: 'module-load',
      description: 'grep -H . /etc/initramfs-tools/modules /etc/modules /etc/modules-load.d/*.conf',
    },
  }),
  modprobe_d: defineFact({
    command: () =>
      raw(
        'grep -Hs . /etc/modprobe.d/*.conf /lib/modprobe.d/*.conf /usr/lib/modprobe.d/*.conf /run/modprobe.d/*.conf; exit 0',
      ),
    parse: parseModprobeD,
    cli: { kind: 'modprobe', description: '/etc/modprobe.d contents (plain or grep -H/-R output)' },
  }),
  interrupts: defineFact({
    instant: true,
    command: () => raw('cat /proc/interrupts'),
    parse: parseInterrupts,
    cli: {
      kind: 'interrupts',
      description: '/proc/interrupts',
      parse: (t) => {
        const i = parseInterrupts(t);
        return { ...i, remapped: usesRemapping(i) };
      },
    },
  }),
  meminfo: defineFact({
    instant: true,
    command: () => raw("grep -E '^(HugePages_|Hugepagesize)' /proc/meminfo; exit 0"),
    parse: parseMeminfoHugepages,
    cli: { kind: 'meminfo', description: '/proc/meminfo hugepage lines' },
  }),
  dev_vfio: defineFact({
    command: () => raw('[ -d /dev/vfio ] || { echo "# absent"; exit 0; }; ls -l /dev/vfio'),
    parse: parseDevVfio,
    cli: { kind: 'dev-vfio', description: 'ls -l /dev/vfio' },
  }),
  // The hypervisor's view: domains, their states and PCI host devices, libvirt's node devices, /dev/vfio holders.
  guests: defineFact({
    command: ({ libvirtUri }) => sh`u=${libvirtUri ?? ''}; ${raw(GUESTS_SCRIPT)}`,
    parse: parseGuestsSection,
    cli: {
      kind: 'libvirt',
      description: "the snapshot's guests section (virsh list, domstate, dumpxml, nodedev-list)",
    },
  }),
  lockdown: defineFact({
    command: () => raw('cat /sys/kernel/security/lockdown'),
    parse: parseLockdown,
    cli: {
      kind: 'lockdown',
      description: '/sys/kernel/security/lockdown',
      parse: (t) => ({ mode: parseLockdown(t) }),
    },
  }),
  secure_boot: defineFact({
    command: () =>
      raw(
        '[ -d /sys/firmware/efi ] || { echo "# no-efi"; exit 0; }; if command -v mokutil >/dev/null && mokutil --sb-state 2>/dev/null; then exit 0; fi; f=$(ls /sys/firmware/efi/efivars/SecureBoot-* 2>/dev/null | head -n 1); [ -n "$f" ] || { echo "no SecureBoot EFI variable and no mokutil" >&2; exit 2; }; printf "efivar: "; od -An -t u1 "$f" | tr -s " \\n" "  "; echo',
      ),
    parse: parseSecureBoot,
    cli: { kind: 'secure-boot', description: 'mokutil --sb-state' },
  }),
  tainted: defineFact({
    instant: true,
    command: () => raw('cat /proc/sys/kernel/tainted'),
    parse: parseTainted,
    cli: { kind: 'tainted', description: '/proc/sys/kernel/tainted' },
  }),
  swiotlb_debugfs: defineFact({
    command: () =>
      raw(
        'd=/sys/kernel/debug/swiotlb; [ -d $d ] || { echo "$d not available (debugfs not mounted or not root)" >&2; exit 2; }; grep -H . $d/io_tlb_*',
      ),
    parse: (t) => parseSwiotlb('', t),
  }),
  // lspci -vv of the passthrough devices and every bridge above them (ACS upstream, FLR), plus their sysfs paths.
  pci_paths: defineFact({
    when: 'passthrough',
    command: ({ passthroughIds }) =>
      sh`${raw(lspciMissing)}; for a in $(${passthroughAddresses(passthroughIds)}); do echo "$a $(readlink -f /sys/bus/pci/devices/$a)"; done`,
    parse: parsePciPaths,
  }),
  lspci_vv: defineFact({
    when: 'passthrough',
    command: ({ passthroughIds }) =>
      sh`${raw(lspciMissing)}; for a in $(for a in $(${passthroughAddresses(passthroughIds)}); do readlink -f /sys/bus/pci/devices/$a | tr / '\n' | grep -E '^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$'; done | sort -u); do lspci -D -vv -s "$a"; done`,
    parse: parseLspciVv,
    cli: { kind: 'lspci-vv', description: 'lspci -vv: ACS, FLR, ARI, port type' },
  }),
  // Performance evidence over a window: /proc/stat and softirqs before and after, perf (or a sleep) between.
  profile_before: statAndSoftirqs,
  perf: defineFact({
    when: 'profile',
    command: ({ profileSeconds: seconds }) =>
      sh`if ! command -v perf >/dev/null; then sleep ${seconds}; echo "perf not installed" >&2; exit 127; fi; f=$(mktemp); if perf record -a -q -o "$f" -- sleep ${seconds} >/dev/null 2>"$f.e"; then perf report -i "$f" --stdio --no-children --sort sym 2>/dev/null | grep -v '^#' | grep '%' | head -n 60; rm -f "$f" "$f.e"; exit 0; fi; cat "$f.e" >&2; rm -f "$f" "$f.e"; exit 1`,
    parse: parsePerfReport,
    cli: { kind: 'perf', description: 'perf report --stdio / perf top lines' },
  }),
  profile_after: statAndSoftirqs,
  threads: defineFact({
    when: 'profile',
    command: () =>
      raw("ps -eLo pid=,tid=,psr=,pcpu=,comm= | grep -E ' (qemu|CPU [0-9]+/KVM|vhost-|ksoftirqd/|kvm)'; exit 0"),
    parse: parsePsThreads,
    cli: { kind: 'ps', description: 'ps -eLo pid,tid,psr,pcpu,comm or ps -eo pid,comm,pcpu,psr,...' },
  }),
  // Parsers of saved output only: the snapshot reads these from the sections above.
  faults: defineFact({
    parse: parseDmaFaults,
    cli: { kind: 'faults', description: 'DMA / interrupt remapping fault lines from any kernel log' },
  }),
  softirqs: defineFact({ parse: parseSoftirqs, cli: { kind: 'softirqs', description: '/proc/softirqs' } }),
  virsh_list: defineFact({ parse: parseVirshList, cli: { kind: 'virsh-list', description: 'virsh list --all' } }),
  virsh_dumpxml: defineFact({
    parse: parseDomainXml,
    cli: { kind: 'virsh-dumpxml', description: 'virsh dumpxml DOMAIN: its memory and PCI host devices' },
  }),
  virsh_nodedev: defineFact({
    parse: parseNodedevList,
    cli: { kind: 'virsh-nodedev', description: 'virsh nodedev-list [--tree]: the PCI devices libvirt enumerates' },
  }),
  mpstat: defineFact({
    parse: parseMpstat,
    cli: { kind: 'mpstat', description: 'mpstat -P ALL (the %soft column)' },
  }),
} satisfies Record<string, FactDefinition<unknown>>;

export type FactName = keyof typeof facts;

/** The facts as [name, definition] pairs, in the registry's order. */
export function factEntries(): Array<[string, FactDefinition<unknown>]> {
  return Object.entries(facts);
}

/** IOMMU state, faults, swiotlb and lockdown from kernel log lines. */
function kernelLogView(t: string) {
  const iommu = parseDmesgIommu(t);
  return {
    iommu,
    domain: dmesgDomain(iommu),
    faults: parseDmaFaults(t),
    swiotlb: parseSwiotlb(t),
    security: parseSecurityLog(t),
  };
}
