/**
 * The passthrough health snapshot: everything the field guides read from a host, one typed value per host.
 * Each source is `Known<T>`: read, or unknown with the reason. Derived facts (IOMMU active, default domain,
 * interrupt remapping) say which evidence they rest on. Stored as JSON (schemas/snapshot.schema.json) before and
 * after changes; diff.ts compares two of them.
 */
import type { Known } from './known.js';
import type { KernelCmdline } from './parsers/cmdline.js';
import type { DmesgIommu, DomainType, IommuVendor } from './parsers/dmesg-iommu.js';
import type { DmaFault } from './parsers/dma-faults.js';
import type { PciDevice } from './parsers/lspci-nnk.js';
import type { PciCapabilities } from './parsers/lspci-vv.js';
import type { IommuGroup } from './parsers/iommu-groups.js';
import type { LoadedModule } from './parsers/lsmod.js';
import type { InitramfsContents } from './parsers/initramfs-list.js';
import type { ModprobeConfig } from './parsers/modprobe-d.js';
import type { ModuleLoadConfig } from './parsers/module-load-config.js';
import type { Interrupts } from './parsers/interrupts.js';
import type { Hugepages } from './parsers/meminfo.js';
import type { CpuInfo } from './parsers/cpuinfo.js';
import type { DevVfio } from './parsers/dev-vfio.js';
import type { LockdownMode, SecureBoot, Taint, SecurityLog } from './parsers/security.js';
import type { Swiotlb } from './parsers/swiotlb.js';
import type { Dmi } from './parsers/dmi.js';
import type { GuestsView } from './parsers/libvirt.js';
import type { SoftirqShare, Softirqs } from './parsers/cpu-softirq.js';
import type { ThreadSample } from './parsers/ps-threads.js';
import type { PerfProfile } from './parsers/perf-report.js';

export type { Known } from './known.js';
export type { DomainType, IommuVendor } from './parsers/dmesg-iommu.js';

/** How one source fared on the host. */
export interface SourceStatus {
  exitCode: number;
  /** Last part of stderr (at most 500 characters), when the source printed any. */
  stderr?: string;
}

/** A conclusion drawn from several sources, with the lines it rests on. */
export interface Derived<T> {
  value: T;
  /** Source lines or facts this conclusion rests on, e.g. `dmesg: DMAR-IR: Enabled IRQ remapping in xapic mode`. */
  evidence: string[];
}

export interface IommuFacts {
  /** IOMMU lines of the current boot's kernel log. */
  log: Known<DmesgIommu>;
  /** /sys/module/iommu/parameters/* (absent on many kernels). */
  params: Known<Record<string, string>>;
  groups: Known<IommuGroup[]>;
  /** /sys/kernel/iommu_groups/N/type: `DMA`, `DMA-FQ`, `identity`, ... per group number. */
  groupTypes: Known<Record<string, string>>;
  /** Which IOMMU the host has; `none` when the kernel shows none at all. */
  vendor: Known<Derived<IommuVendor | 'none'>>;
  /** DMA remapping is on: groups exist or the kernel log says it initialised. */
  active: Known<Derived<boolean>>;
  /** Default domain for host devices, from sysfs group types, then iommu parameters, then the kernel log. */
  defaultDomain: Known<Derived<DomainType>>;
  interruptRemapping: Known<Derived<InterruptRemapping>>;
}

/** Interrupt remapping: whether the kernel enabled it, and in which APIC mode. */
export interface InterruptRemapping {
  enabled: boolean;
  mode: 'x2apic' | 'xapic' | null;
}

export interface ModuleFacts {
  loaded: Known<LoadedModule[]>;
  /** Built-in modules of the running kernel that matter here (vfio, kvm, vhost, iommu). */
  builtin: Known<string[]>;
  /** Contents of the running kernel's initramfs (module names). */
  initramfs: Known<InitramfsContents>;
  /** What the host asks to load early (initramfs-tools modules, /etc/modules, dracut). */
  loadConfig: Known<ModuleLoadConfig>;
  modprobe: Known<ModprobeConfig>;
}

export interface SecurityFacts {
  lockdown: Known<LockdownMode>;
  secureBoot: Known<SecureBoot>;
  tainted: Known<Taint>;
  /** Lockdown, Secure Boot and module signature lines of the kernel log. */
  log: Known<SecurityLog>;
}

export interface ProfileFacts {
  /** Sampling window, seconds. */
  seconds: number;
  /** Share of each CPU's time in softirq over the window, percent. */
  softirqShare: Known<SoftirqShare[]>;
  /** Softirq counts per type per CPU over the window. */
  softirqs: Known<Softirqs>;
  threads: Known<ThreadSample[]>;
  perf: Known<PerfProfile>;
}

export interface PreviousBoot {
  iommu: DmesgIommu;
  faults: DmaFault[];
}

export interface HardwareFacts extends Dmi {
  /** Vendor and product name, e.g. `Dell Inc. PowerEdge R750`. */
  kind: string | null;
}

export interface HostSnapshot {
  schemaVersion: 1;
  /** Inventory name. */
  host: string;
  /** ISO 8601, controller clock. */
  collectedAt: string;
  /** Wall time of the collection command, milliseconds. */
  durationMs: number;
  /** The script ran as root (needed for dmesg on restricted hosts, lspci capabilities, debugfs). */
  privileged: Known<boolean>;
  kernelRelease: Known<string>;
  bootId: Known<string>;
  /** DMI identity; `kind` (vendor + product) is what canaries group hosts by. */
  hardware: Known<HardwareFacts>;
  cmdline: Known<KernelCmdline>;
  cpu: Known<CpuInfo>;
  iommu: IommuFacts;
  /** lspci -nnk. */
  pci: Known<PciDevice[]>;
  /** lspci -vv of passthrough devices and the bridges above them; unknown when none were named. */
  pciCapabilities: Known<PciCapabilities[]>;
  /** Passthrough device address -> the bridges above it, nearest root first. */
  pciPaths: Known<Record<string, string[]>>;
  modules: ModuleFacts;
  interrupts: Known<Interrupts>;
  hugepages: Known<Hugepages>;
  devVfio: Known<DevVfio>;
  security: SecurityFacts;
  swiotlb: Known<Swiotlb>;
  /** DMA / interrupt remapping faults of the current boot. */
  faults: Known<DmaFault[]>;
  /** IOMMU lines and faults of the previous boot (`journalctl -k -b -1`). */
  previousBoot: Known<PreviousBoot>;
  /**
   * The hypervisor's view through libvirt (domains, their host devices, node devices, /dev/vfio holders). Absent
   * in snapshots taken before rollgate read guests.
   */
  guests?: Known<GuestsView>;
  /** Present only when gathered with --profile. */
  profile?: ProfileFacts;
  /**
   * Facts of the registry (registry.ts) that the fields above do not place, by name, each parsed by its own
   * parser. Absent when there are none.
   */
  facts?: Record<string, Known<unknown>>;
  /** Exit status (and stderr tail) of every source, by section name. */
  sources: Record<string, SourceStatus>;
}
