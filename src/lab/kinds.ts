/**
 * Hardware kinds of lab VMs: what a fleet's "hardware kind" means to a rollout (DMI product name, CPU vendor,
 * IOMMU, the set of passthrough PCI ids), reproduced with QEMU devices. Guest PCI addresses are pinned so the
 * inventory can name the passthrough devices before the VM has booted.
 */

export type IommuVendor = 'intel' | 'amd';
/**
 * intel, amd, mixed: GRUB through SeaBIOS; systemd-boot: Intel VMs booting systemd-boot through OVMF (UEFI);
 * stock-grub: Intel VMs with GRUB's defaults as distributions ship them (GRUB_DEFAULT=0, stock-grub.ts).
 */
export type LabProfile = 'intel' | 'amd' | 'mixed' | 'systemd-boot' | 'stock-grub';
export const LAB_PROFILES: readonly LabProfile[] = ['intel', 'amd', 'mixed', 'systemd-boot', 'stock-grub'];
/** The boot stack of a profile's image: which recipe builds it and which firmware boots it. */
export type LabBootLoader = 'grub' | 'systemd-boot';

export function profileBootLoader(profile: LabProfile): LabBootLoader {
  return profile === 'systemd-boot' ? 'systemd-boot' : 'grub';
}

/** One emulated PCI function worth passing through. */
export interface LabPciDevice {
  /** QEMU device model, e.g. 'e1000e'. */
  model: string;
  /** Guest PCI address, e.g. '0000:00:04.0'. */
  address: string;
  /** vendor:device as lspci -nn shows it. */
  id: string;
  /** Linux driver that claims it when vfio-pci does not. */
  hostDriver: string;
  /** What it stands in for on a real hypervisor. */
  role: string;
}

export interface LabKind {
  name: string;
  iommu: IommuVendor;
  /** SMBIOS type 1 product name (/sys/class/dmi/id/product_name). */
  product: string;
  /** CPU vendor string the guest sees. */
  cpuVendor: 'GenuineIntel' | 'AuthenticAMD';
  /** The two functions of one slot (GPU + its audio): the inventory's passthrough_devices. */
  passthrough: readonly LabPciDevice[];
  /** A NIC behind a PCIe root port, alone in its own group: a second passthrough candidate. */
  rootPortNic: LabPciDevice;
}

const GPU_PAIR: readonly LabPciDevice[] = [
  { model: 'bochs-display', address: '0000:00:04.0', id: '1234:1111', hostDriver: 'bochs-drm', role: 'GPU (function 0)' },
  { model: 'ich9-intel-hda', address: '0000:00:04.1', id: '8086:293e', hostDriver: 'snd_hda_intel', role: 'GPU audio (function 1)' },
];
const ROOT_PORT_NIC: LabPciDevice = {
  model: 'e1000e', address: '0000:01:00.0', id: '8086:10d3', hostDriver: 'e1000e', role: 'NIC behind a PCIe root port',
};

export const LAB_KINDS: Readonly<Record<IommuVendor, LabKind>> = {
  intel: {
    name: 'intel-gpu-node',
    iommu: 'intel',
    product: 'rollgate-lab Intel GPU node',
    cpuVendor: 'GenuineIntel',
    passthrough: GPU_PAIR,
    rootPortNic: ROOT_PORT_NIC,
  },
  amd: {
    name: 'amd-gpu-node',
    iommu: 'amd',
    product: 'rollgate-lab AMD GPU node',
    cpuVendor: 'AuthenticAMD',
    passthrough: GPU_PAIR,
    rootPortNic: ROOT_PORT_NIC,
  },
};

/** Kind of the i-th host (0-based) in a profile: mixed alternates Intel, AMD, Intel, ... */
export function kindFor(profile: LabProfile, index: number): LabKind {
  if (profile === 'mixed') return index % 2 === 0 ? LAB_KINDS.intel : LAB_KINDS.amd;
  if (profile === 'systemd-boot' || profile === 'stock-grub') return LAB_KINDS.intel;
  return LAB_KINDS[profile];
}

/** Every host driver a passthrough candidate may be claimed by, keyed by PCI id. */
export function hostDriversById(): Map<string, string> {
  const map = new Map<string, string>();
  for (const kind of Object.values(LAB_KINDS)) {
    for (const d of [...kind.passthrough, kind.rootPortNic]) map.set(d.id, d.hostDriver);
  }
  return map;
}
