/**
 * CPU vendor, model and virtualisation flags from /proc/cpuinfo (first processor). `vmx` = Intel VT-x,
 * `svm` = AMD-V; neither says anything about VT-d / AMD-Vi (the IOMMU), which only the kernel log shows.
 */

export interface CpuInfo {
  /** `GenuineIntel`, `AuthenticAMD`, or null (ARM prints no vendor_id). */
  vendor: string | null;
  model: string | null;
  /** `vmx`, `svm`, or null when the CPU shows neither. */
  virtualization: 'vmx' | 'svm' | null;
  flags: string[];
}

export function parseCpuFlags(text: string): CpuInfo {
  const field = (name: string): string | null => {
    const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text);
    return m ? m[1]!.trim() : null;
  };
  const flags = (field('flags') ?? field('Features') ?? '').split(/\s+/).filter(Boolean);
  return {
    vendor: field('vendor_id'),
    model: field('model name') ?? field('Model'),
    virtualization: flags.includes('vmx') ? 'vmx' : flags.includes('svm') ? 'svm' : null,
    flags,
  };
}
