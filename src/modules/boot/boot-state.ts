/**
 * What the boot configuration currently says, read from the host: the CPU vendor (for the IOMMU argument
 * guard), grubby's entries, the kernel lines of a generated grub.cfg, and /proc/cmdline. Parsers are pure.
 */
import type { Connection } from '../../connection/connection.js';
import { sh } from '../../connection/shell-quote.js';
import { runChecked, toolCommand, type HostRoot } from '../host-root.js';
import { splitArgs } from './cmdline-args.js';

export type CpuVendor = 'intel' | 'amd' | 'other';

/** From the first vendor_id line of /proc/cpuinfo. Hygon (an AMD licensee) counts as AMD. */
export function parseCpuVendor(cpuinfo: string): CpuVendor {
  const m = /^vendor_id\s*:\s*(\S+)/m.exec(cpuinfo);
  if (m?.[1] === 'GenuineIntel') return 'intel';
  if (m?.[1] === 'AuthenticAMD' || m?.[1] === 'HygonGenuine') return 'amd';
  return 'other';
}

export async function readCpuVendor(conn: Connection, hr: HostRoot): Promise<CpuVendor> {
  const r = await conn.exec(sh`grep -m1 '^vendor_id' ${hr.path('/proc/cpuinfo')}`);
  return parseCpuVendor(r.stdout);
}

/** The args of every entry in `grubby --info=ALL` output. */
export function parseGrubbyInfo(output: string): string[][] {
  return output
    .split('\n')
    .map((l) => /^args="?(.*?)"?$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => splitArgs(m[1] ?? ''));
}

export async function readGrubbyArgs(conn: Connection, hr: HostRoot, grubby: string): Promise<string[][]> {
  return parseGrubbyInfo(await runChecked(conn, toolCommand(hr, grubby, ['--info=ALL']), 'grubby --info=ALL'));
}

/** Arguments of each `linux` line of a grub.cfg (kernel path dropped). */
export function parseGrubCfgKernelLines(cfg: string): string[][] {
  return cfg
    .split('\n')
    .map((l) => /^\s*linux(?:16|efi)?\s+\S+\s*(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => splitArgs(m[1] ?? ''));
}

/** /proc/cmdline without what the boot loader adds itself (kernel-install does the same when it has no file). */
export function cmdlineBase(procCmdline: string): string {
  return splitArgs(procCmdline)
    .filter((w) => !w.startsWith('BOOT_IMAGE=') && !w.startsWith('initrd='))
    .join(' ');
}
