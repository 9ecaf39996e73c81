/**
 * What `rollgate lab image` prints about the cached image: where it is, what it runs, which kernel packages its
 * local apt repository holds, and the hardware kinds a VM can take.
 */
import type { LabImage } from './image.js';
import { LAB_KINDS } from './kinds.js';

/** The summary's lines, without trailing newlines. */
export function summarizeImage(img: LabImage): string[] {
  const m = img.manifest;
  return [
    `image ${img.hash}: ${img.base}`,
    ...(m.bootLoader === 'systemd-boot' ? [`  systemd-boot through OVMF (UEFI), derived from the GRUB image ${m.baseImage ?? '?'}`] : []),
    ...(m.variant === 'guests'
      ? [`  guests: libvirt and QEMU, intel_iommu=on, the nested guests' kernel and initramfs; derived from the GRUB image ${m.baseImage ?? '?'}`]
      : []),
    `  Debian ${m.suite}, kernel ${m.kernel}, built ${m.builtAt} in ${m.buildSeconds} s, ${(m.imageBytes / 1048576).toFixed(0)} MiB qcow2`,
    `  guest apt repository: good kernel update ${m.updateKernel} (linux-image-${m.updateKernel}), bad kernel ${m.badKernel} (linux-image-${m.badKernel})`,
    `  kinds: ${Object.values(LAB_KINDS).map((k) => `${k.name} (${k.product})`).join(', ')}`,
  ];
}
