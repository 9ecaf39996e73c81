/**
 * `ls -l /dev/vfio`: the container node `vfio`, one node per IOMMU group handed to vfio, and `devices/`
 * (iommufd). Our collection script prints `# absent` when the directory does not exist.
 */

export interface VfioNode {
  name: string;
  /** `crw-rw----` */
  mode: string;
  owner: string;
  group: string;
  /** Anyone on the host may open it: DMA from any local user into a guest's device. */
  worldWritable: boolean;
}

export interface DevVfio {
  present: boolean;
  nodes: VfioNode[];
}

export function parseDevVfio(text: string): DevVfio {
  if (/^# absent/m.test(text) || /No such file or directory/.test(text)) return { present: false, nodes: [] };
  const nodes: VfioNode[] = [];
  for (const raw of text.split('\n')) {
    const m = /^([cdlbps-][rwxsStT-]{9})[.+@]?\s+\d+\s+(\S+)\s+(\S+)\s+.*?\s(\S+)$/.exec(raw.trim());
    if (!m) continue;
    nodes.push({ name: m[4]!, mode: m[1]!, owner: m[2]!, group: m[3]!, worldWritable: m[1]![8] === 'w' });
  }
  return { present: true, nodes };
}
