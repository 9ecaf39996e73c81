/**
 * Every source of the snapshot as one shell snippet. All of them run in one script on the host (script.ts), each
 * in its own `sh -c` with a time limit, so one missing tool or denied file costs only its own section.
 * Snippets print raw output; parsing happens on the controller.
 */
import { sh, raw, type ShellFragment } from '../../connection/shell-quote.js';

export interface SourceSpec {
  name: string;
  snippet: ShellFragment;
}

export interface SourceOptions {
  /** vendor:device ids meant for passthrough: their lspci -vv (and their upstream bridges') is read. */
  passthroughIds: string[];
  /** Gather performance evidence (softirq, threads, perf) over this many seconds; 0 = off. */
  profileSeconds: number;
}

const KERNEL_LOG_FILTER =
  'DMAR|IOMMU|AMD-Vi|SMMU|remapping|x2apic|vfio|Default domain|invalidation policy|swiotlb|software IO TLB|bounce buffering|Lockdown|locked down|Secure boot|module verification|unsigned module|PKCS#7|Required key|Event logged|fault addr|fault index|fault reason|context fault|PCI-DMA|ACS';

/** Sources every snapshot reads. */
export function baseSources(): SourceSpec[] {
  return [
    { name: 'whoami', snippet: raw('id -u') },
    { name: 'kernel_release', snippet: raw('uname -r') },
    { name: 'boot_id', snippet: raw('cat /proc/sys/kernel/random/boot_id') },
    { name: 'cmdline', snippet: raw('cat /proc/cmdline') },
    {
      name: 'dmi',
      snippet: raw(
        '[ -r /sys/class/dmi/id/product_name ] || { echo "no DMI table (/sys/class/dmi/id/product_name missing)" >&2; exit 2; }; cd /sys/class/dmi/id && grep -H . sys_vendor product_name product_version board_name 2>/dev/null | sed "s|^|/sys/class/dmi/id/|"; exit 0',
      ),
    },
    {
      name: 'cpuinfo',
      snippet: raw("grep -m 4 -E '^(vendor_id|model name|flags|Features)[[:space:]]*:' /proc/cpuinfo"),
    },
    // dmesg may be restricted (dmesg_restrict=1) without root: fail the section rather than print nothing.
    {
      name: 'dmesg',
      snippet: sh`out=$(dmesg 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }; printf '%s\n' "$out" | head -n 1 | sed 's/^/# first: /'; printf '%s\n' "$out" | grep -aiE ${KERNEL_LOG_FILTER} | head -n 5000; exit 0`,
    },
    {
      name: 'dmesg_previous_boot',
      snippet: sh`command -v journalctl >/dev/null || { echo 'journalctl not installed' >&2; exit 127; }; out=$(journalctl -k -b -1 --no-pager -q 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }; printf '%s\n' "$out" | grep -aiE ${KERNEL_LOG_FILTER} | head -n 5000; exit 0`,
    },
    {
      name: 'iommu_params',
      snippet: raw(
        'd=/sys/module/iommu/parameters; [ -d $d ] || { echo "$d does not exist on this kernel" >&2; exit 3; }; grep -H . $d/* 2>&1; exit 0',
      ),
    },
    {
      name: 'iommu_groups',
      snippet: raw(
        '[ -d /sys/kernel/iommu_groups ] || { echo "/sys/kernel/iommu_groups does not exist (kernel built without IOMMU support)" >&2; exit 3; }; for f in /sys/kernel/iommu_groups/*/devices/*; do [ -e "$f" ] && echo "$f"; done; exit 0',
      ),
    },
    {
      name: 'iommu_group_types',
      snippet: raw('for f in /sys/kernel/iommu_groups/*/type; do [ -r "$f" ] && grep -H . "$f"; done; exit 0'),
    },
    {
      name: 'lspci',
      snippet: raw(
        'command -v lspci >/dev/null || { echo "lspci not installed (pciutils)" >&2; exit 127; }; lspci -Dnnk',
      ),
    },
    { name: 'modules', snippet: raw('cat /proc/modules') },
    {
      name: 'modules_builtin',
      snippet: raw(
        'f=/lib/modules/$(uname -r)/modules.builtin; [ -r "$f" ] || { echo "$f not readable" >&2; exit 2; }; grep -E "vfio|kvm|vhost|iommu" "$f"; exit 0',
      ),
    },
    {
      name: 'initramfs',
      snippet: raw(
        'k=$(uname -r); if command -v lsinitramfs >/dev/null; then i=/boot/initrd.img-$k; [ -r "$i" ] || { echo "$i not readable" >&2; exit 2; }; echo "# image $i"; lsinitramfs "$i" | grep -E "\\.ko" ; exit 0; elif command -v lsinitrd >/dev/null; then lsinitrd | grep -E "^Image:|^Version:|\\.ko"; exit 0; else echo "neither lsinitramfs nor lsinitrd installed" >&2; exit 127; fi',
      ),
    },
    {
      name: 'module_load_config',
      snippet: raw(
        'for f in /etc/initramfs-tools/modules /etc/modules /etc/modules-load.d/*.conf /etc/dracut.conf.d/*.conf; do [ -r "$f" ] && grep -H . "$f"; done; exit 0',
      ),
    },
    {
      name: 'modprobe_d',
      snippet: raw(
        'for f in /etc/modprobe.d/*.conf /lib/modprobe.d/*.conf /usr/lib/modprobe.d/*.conf /run/modprobe.d/*.conf; do [ -r "$f" ] && grep -H . "$f"; done; exit 0',
      ),
    },
    { name: 'interrupts', snippet: raw('cat /proc/interrupts') },
    { name: 'meminfo', snippet: raw("grep -E '^(HugePages_|Hugepagesize)' /proc/meminfo; exit 0") },
    { name: 'dev_vfio', snippet: raw('[ -d /dev/vfio ] || { echo "# absent"; exit 0; }; ls -l /dev/vfio') },
    { name: 'lockdown', snippet: raw('cat /sys/kernel/security/lockdown') },
    {
      name: 'secure_boot',
      snippet: raw(
        '[ -d /sys/firmware/efi ] || { echo "# no-efi"; exit 0; }; if command -v mokutil >/dev/null && mokutil --sb-state 2>/dev/null; then exit 0; fi; f=$(ls /sys/firmware/efi/efivars/SecureBoot-* 2>/dev/null | head -n 1); [ -n "$f" ] || { echo "no SecureBoot EFI variable and no mokutil" >&2; exit 2; }; printf "efivar: "; od -An -t u1 "$f" | tr -s " \\n" "  "; echo',
      ),
    },
    { name: 'tainted', snippet: raw('cat /proc/sys/kernel/tainted') },
    {
      name: 'swiotlb_debugfs',
      snippet: raw(
        'd=/sys/kernel/debug/swiotlb; [ -d $d ] || { echo "$d not available (debugfs not mounted or not root)" >&2; exit 2; }; grep -H . $d/io_tlb_*',
      ),
    },
  ];
}

/** lspci -vv of the passthrough devices and every bridge above them (ACS upstream, FLR), plus their sysfs paths. */
export function passthroughSources(ids: string[]): SourceSpec[] {
  const find = sh`for id in ${ids}; do lspci -Dn -d "$id" | cut -d' ' -f1; done`;
  return [
    {
      name: 'pci_paths',
      snippet: sh`command -v lspci >/dev/null || { echo "lspci not installed (pciutils)" >&2; exit 127; }; for a in $(${find}); do echo "$a $(readlink -f /sys/bus/pci/devices/$a)"; done`,
    },
    {
      name: 'lspci_vv',
      snippet: sh`command -v lspci >/dev/null || { echo "lspci not installed (pciutils)" >&2; exit 127; }; for a in $(for a in $(${find}); do readlink -f /sys/bus/pci/devices/$a | tr / '\n' | grep -E '^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$'; done | sort -u); do lspci -D -vv -s "$a"; done`,
    },
  ];
}

/** Performance evidence over a window: /proc/stat and softirqs before and after, perf (or a sleep) between. */
export function profileSources(seconds: number): SourceSpec[] {
  return [
    { name: 'profile_before', snippet: raw('cat /proc/stat; echo "@@softirqs"; cat /proc/softirqs') },
    {
      name: 'perf',
      snippet: sh`if ! command -v perf >/dev/null; then sleep ${seconds}; echo "perf not installed" >&2; exit 127; fi; f=$(mktemp); if perf record -a -q -o "$f" -- sleep ${seconds} >/dev/null 2>"$f.e"; then perf report -i "$f" --stdio --no-children --sort sym 2>/dev/null | grep -v '^#' | grep '%' | head -n 60; rm -f "$f" "$f.e"; exit 0; fi; cat "$f.e" >&2; rm -f "$f" "$f.e"; exit 1`,
    },
    { name: 'profile_after', snippet: raw('cat /proc/stat; echo "@@softirqs"; cat /proc/softirqs') },
    {
      name: 'threads',
      snippet: raw(
        "ps -eLo pid=,tid=,psr=,pcpu=,comm= | grep -E ' (qemu|CPU [0-9]+/KVM|vhost-|ksoftirqd/|kvm)'; exit 0",
      ),
    },
  ];
}

export function allSources(opts: SourceOptions): SourceSpec[] {
  return [
    ...baseSources(),
    ...(opts.passthroughIds.length ? passthroughSources(opts.passthroughIds) : []),
    ...(opts.profileSeconds > 0 ? profileSources(opts.profileSeconds) : []),
  ];
}
