/**
 * /proc/interrupts: a `CPU0 CPU1 ...` header, then per IRQ the counts per CPU, the chip (`IR-PCI-MSI`,
 * `IR-PCI-MSIX-0000:3b:00.0`, `IO-APIC`, old `IR-PCI-MSI-edge`), the hardware irq and trigger, and the action
 * names. Pasted excerpts without the header work too (CPU count taken from the widest row).
 * Chips starting with `IR-` mean the interrupt goes through interrupt remapping.
 */

export interface IrqLine {
  /** `169`, or `NMI`, `LOC`, ... for the architecture's own rows. */
  irq: string;
  counts: number[];
  chip: string | null;
  hwirq: string | null;
  trigger: string | null;
  /** Action names, e.g. `eth0-TxRx-0`, `nvme0q1`, `vfio-msix[0](0000:01:00.0)`. */
  name: string;
}

export interface Interrupts {
  cpus: number;
  lines: IrqLine[];
}

export function parseInterrupts(text: string): Interrupts {
  let cpus = 0;
  const lines: IrqLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (/^\s*CPU\d+(\s+CPU\d+)*\s*$/.test(line)) {
      cpus = line.trim().split(/\s+/).length;
      continue;
    }
    const m = /^\s*([A-Za-z0-9_]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const tokens = m[2]!.trim().split(/\s+/).filter(Boolean);
    const counts: number[] = [];
    while (counts.length < (cpus || Infinity) && tokens.length && /^\d+$/.test(tokens[0]!))
      counts.push(Number(tokens.shift()));
    if (!counts.length) continue;
    let chip: string | null = null;
    let hwirq: string | null = null;
    let trigger: string | null = null;
    const numeric = /^\d+$/.test(m[1]!);
    if (numeric && tokens.length) {
      chip = tokens.shift()!;
      const old = /^(.*)-(edge|level|fasteoi)$/.exec(chip);
      const hw = /^(\S+?)-(edge|level|fasteoi)$/.exec(tokens[0] ?? '');
      if (hw) {
        tokens.shift();
        hwirq = hw[1]!;
        trigger = hw[2]!;
      } else if (old && !tokens[0]?.match(/^\d/)) {
        chip = old[1]!;
        trigger = old[2]!;
      } else if (/^\d+$/.test(tokens[0] ?? '') && /^(edge|level|fasteoi)$/i.test(tokens[1] ?? '')) {
        hwirq = tokens.shift()!;
        trigger = tokens.shift()!;
      }
    }
    lines.push({ irq: m[1]!, counts, chip, hwirq, trigger, name: tokens.join(' ') });
  }
  if (!cpus) cpus = Math.max(0, ...lines.filter((l) => /^\d+$/.test(l.irq)).map((l) => l.counts.length));
  return { cpus, lines };
}

/**
 * The device an IRQ belongs to, so queues of one device are judged together: the PCI address in the chip
 * (`IR-PCI-MSIX-0000:3b:00.0`) or name (`vfio-msix[0](0000:01:00.0)`), else the name without its queue suffix
 * (`eth0-TxRx-3` -> `eth0`, `nvme0q2` -> `nvme0`).
 */
export function irqDevice(l: IrqLine): string {
  const inChip = /([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])/.exec(l.chip ?? '');
  if (inChip) return inChip[1]!;
  const inName = /\(([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\)/.exec(l.name);
  if (inName) return inName[1]!;
  const first = l.name.split(/[\s,]+/)[0] ?? l.irq;
  return (
    first
      .replace(/-(TxRx|rx|tx|Tx|Rx|fp|comp|async)(-\d+)?$/i, '')
      .replace(/-\d+$/, '')
      .replace(/^(nvme\d+)q\d+$/, '$1') || l.irq
  );
}

/** True when any device interrupt goes through a remapping chip (`IR-...`). */
export function usesRemapping(i: Interrupts): boolean | null {
  const msi = i.lines.filter((l) => l.chip && /PCI-MSI|IO-APIC/.test(l.chip));
  if (!msi.length) return null;
  return msi.some((l) => l.chip!.startsWith('IR-'));
}
