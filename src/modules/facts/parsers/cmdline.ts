/**
 * /proc/cmdline as the kernel reads it: words split on spaces, double quotes may wrap spaces in a value,
 * `name=value` or a bare flag, everything after `--` goes to init. Also the other ways people paste a command line
 * (see grub-cmdline.ts): the /etc/default/grub assignments, a grub.cfg `linux` line, the kernel's own
 * `Kernel command line:` log line.
 */
import { grubCmdline } from './grub-cmdline.js';

export interface CmdlineArg {
  /** As written, e.g. `intel_iommu`, `vfio-pci.ids`. */
  name: string;
  /** Text after the first `=`, quotes removed; null for a bare flag such as `quiet`. */
  value: string | null;
}

export interface KernelCmdline {
  raw: string;
  /** Kernel arguments in order, duplicates kept (the kernel generally honours the last). */
  args: CmdlineArg[];
  /** Words after `--`, passed to init. */
  initArgs: string[];
  /**
   * Present when the text was not a bare /proc/cmdline: what it was read from. `raw` is then the command line
   * it yields (GRUB_CMDLINE_LINUX then GRUB_CMDLINE_LINUX_DEFAULT, as grub-mkconfig joins them).
   */
  from?: 'grub-default' | 'grub-cfg' | 'kernel-log';
}

function words(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  let started = false;
  for (const ch of line) {
    if (ch === '"') {
      inQuote = !inQuote;
      started = true;
    } else if (/\s/.test(ch) && !inQuote) {
      if (started) out.push(cur);
      cur = '';
      started = false;
    } else {
      cur += ch;
      started = true;
    }
  }
  if (started) out.push(cur);
  return out;
}

export function parseCmdline(text: string): KernelCmdline {
  const grub = grubCmdline(text);
  const raw = grub ? grub.cmdline : (text.split('\n').find((l) => l.trim() !== '') ?? '').trim();
  const args: CmdlineArg[] = [];
  const initArgs: string[] = [];
  let toInit = false;
  for (const w of words(raw)) {
    if (toInit) {
      initArgs.push(w);
      continue;
    }
    if (w === '--') {
      toInit = true;
      continue;
    }
    const eq = w.indexOf('=');
    args.push(eq < 0 ? { name: w, value: null } : { name: w.slice(0, eq), value: w.slice(eq + 1) });
  }
  return grub ? { raw, args, initArgs, from: grub.from } : { raw, args, initArgs };
}

/** The kernel treats `-` and `_` in parameter names alike. */
export function sameParam(a: string, b: string): boolean {
  return a.replace(/-/g, '_') === b.replace(/-/g, '_');
}

/** Every value given for a parameter, in order (null for bare flags). */
export function argValues(cmdline: KernelCmdline, name: string): Array<string | null> {
  return cmdline.args.filter((a) => sameParam(a.name, name)).map((a) => a.value);
}

/** The value the kernel acts on (the last one), undefined when absent. */
export function lastArg(cmdline: KernelCmdline, name: string): string | null | undefined {
  const v = argValues(cmdline, name);
  return v.length ? v[v.length - 1] : undefined;
}

/** `intel_iommu=on,sm_on` -> ['on', 'sm_on'] for the last occurrence; [] when absent. */
export function argOptions(cmdline: KernelCmdline, name: string): string[] {
  const v = lastArg(cmdline, name);
  return v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

/** `name` or `name=value` as written on a cmdline. */
export function formatArg(arg: CmdlineArg): string {
  if (arg.value === null) return arg.name;
  return /\s/.test(arg.value) ? `${arg.name}="${arg.value}"` : `${arg.name}=${arg.value}`;
}
