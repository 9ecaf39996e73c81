/**
 * Secure Boot and kernel lockdown, which decide whether unsigned (often out-of-tree) modules may load:
 * `/sys/kernel/security/lockdown` (`none [integrity] confidentiality`), `mokutil --sb-state`, the SecureBoot EFI
 * variable (our script prints `efivar: 6 0 0 0 1`, the last byte is the state), `/proc/sys/kernel/tainted`, and
 * the kernel log's lockdown and module-signature messages.
 */
import { kernelLines } from './log-lines.js';

export type LockdownMode = 'none' | 'integrity' | 'confidentiality';

export function parseLockdown(text: string): LockdownMode | null {
  const m = /\[(none|integrity|confidentiality)\]/.exec(text);
  return m ? (m[1] as LockdownMode) : null;
}

export interface SecureBoot {
  state: 'enabled' | 'disabled' | 'unsupported';
  /** Which source said so: mokutil, the EFI variable, or the absence of EFI. */
  source: 'mokutil' | 'efivar' | 'no-efi' | 'dmesg';
  line: string;
}

export function parseSecureBoot(text: string): SecureBoot | null {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/^SecureBoot (enabled|disabled)/i.test(line))
      return { state: /enabled/i.test(line) ? 'enabled' : 'disabled', source: 'mokutil', line };
    if (/doesn't support Secure Boot|EFI variables are not supported/i.test(line))
      return { state: 'unsupported', source: 'mokutil', line };
    const ev = /^efivar:\s*([\d\s]+)$/.exec(line);
    if (ev) {
      const bytes = ev[1]!.trim().split(/\s+/).map(Number);
      return { state: bytes[bytes.length - 1] === 1 ? 'enabled' : 'disabled', source: 'efivar', line };
    }
    if (/^# no-efi/.test(line))
      return { state: 'unsupported', source: 'no-efi', line: 'no /sys/firmware/efi: booted by legacy BIOS' };
  }
  return null;
}

const TAINT_LETTERS = 'PFSRMBUDAWCIOELKXTN';
const TAINT_MEANING: Record<string, string> = {
  P: 'proprietary module loaded',
  F: 'module force-loaded',
  C: 'staging driver loaded',
  O: 'out-of-tree module loaded',
  E: 'unsigned module loaded',
  W: 'kernel warning issued',
  D: 'kernel died (oops)',
  X: 'auxiliary taint (distribution)',
};

export interface Taint {
  value: number;
  /** Letters as `dmesg` shows them, e.g. ['O', 'E']. */
  flags: string[];
  meanings: string[];
}

export function parseTainted(text: string): Taint | null {
  const m = /^\s*(\d+)\s*$/m.exec(text);
  if (!m) return null;
  const value = Number(m[1]);
  const flags = [...TAINT_LETTERS].filter((_, bit) => Math.floor(value / 2 ** bit) % 2 === 1);
  return { value, flags, meanings: flags.map((f) => TAINT_MEANING[f] ?? `taint ${f}`) };
}

/**
 * Lockdown as the kernel log tells it. 5.4+ (security/lockdown): `Kernel is locked down from EFI Secure Boot mode;
 * see man kernel_lockdown.7` (also `from command line`, `Kernel configuration`, `securityfs`) and, when something is
 * refused, `Lockdown: modprobe: unsigned module loading is restricted; see man kernel_lockdown.7`. The earlier distro
 * patches: `Kernel is locked down from EFI secure boot` / `from config`, `Lockdown: <what> is restricted` without the
 * program name, and `Lifting lockdown` (SysRq+x).
 */
export interface LockdownLog {
  /** locked = a lock-down line or a refusal; lifted = the last word was `Lifting lockdown`. */
  state: 'locked' | 'lifted';
  /** Where the kernel says lockdown came from (`EFI Secure Boot mode`, `command line`...); null when not printed. */
  from: string | null;
  /** The level when the log names it (`lockdown=integrity` on the command line, or a confidentiality refusal). */
  mode: 'integrity' | 'confidentiality' | null;
  /** What was refused, with the program when printed: `modprobe: unsigned module loading`. */
  restricted: string[];
}

const LOCKED_FROM = /Kernel is locked down from ([^;]+?)(?:;|$)/i;
const RESTRICTED = /^Lockdown:\s*(.+?) is restricted(?:;|$)/i;
// Reasons the kernel lists after LOCKDOWN_INTEGRITY_MAX: refusing them means confidentiality mode.
const CONFIDENTIALITY_ONLY =
  /use of kprobes|use of bpf to read kernel RAM|use of perf|tracefs|xmon read|xfrm SA secret|\/proc\/kcore|kernel RAM/i;

function lockdownOf(lines: string[], cmdlineMode: LockdownLog['mode']): LockdownLog | null {
  if (lines.length === 0) return null;
  const out: LockdownLog = { state: 'locked', from: null, mode: null, restricted: [] };
  for (const t of lines) {
    if (/Lifting lockdown/i.test(t)) {
      out.state = 'lifted';
      out.mode = null;
      continue;
    }
    out.state = 'locked';
    const from = LOCKED_FROM.exec(t);
    if (from?.[1]) out.from = from[1].trim();
    const r = RESTRICTED.exec(t);
    if (r?.[1]) {
      out.restricted.push(r[1].trim());
      if (CONFIDENTIALITY_ONLY.test(r[1])) out.mode = 'confidentiality';
    }
  }
  if (out.state === 'locked' && out.mode === null && /command line/i.test(out.from ?? '')) out.mode = cmdlineMode;
  return out;
}

export interface SecurityLog {
  /** `Lockdown: ...` and `Kernel is locked down ...` lines (lines that show it in force; not `Lifting lockdown`). */
  lockdown: string[];
  /** What those lines conclude; null when the log says nothing about lockdown. */
  lockdownState: LockdownLog | null;
  /** `secureboot: Secure boot enabled` / `disabled`. */
  secureBoot: SecureBoot | null;
  /** Modules refused or loaded without a valid signature. */
  signatureProblems: string[];
}

export function parseSecurityLog(text: string): SecurityLog {
  const out: SecurityLog = { lockdown: [], lockdownState: null, secureBoot: null, signatureProblems: [] };
  const lockLines: string[] = [];
  let cmdlineMode: LockdownLog['mode'] = null;
  for (const { text: t } of kernelLines(text)) {
    const cl = /^(?:Kernel )?command line:.*\blockdown=(integrity|confidentiality)\b/i.exec(t);
    if (cl?.[1]) cmdlineMode = cl[1].toLowerCase() as LockdownLog['mode'];
    if (/^Lockdown:|locked down|^Lifting lockdown/i.test(t)) {
      lockLines.push(t);
      if (!/Lifting lockdown/i.test(t)) out.lockdown.push(t);
    }
    const sb = /Secure boot (enabled|disabled)/i.exec(t);
    if (sb && !out.secureBoot)
      out.secureBoot = { state: sb[1]!.toLowerCase() as 'enabled' | 'disabled', source: 'dmesg', line: t };
    if (
      /module verification failed|Loading of unsigned module is rejected|PKCS#7 signature not signed with a trusted key|Key was rejected by service|Required key not available/i.test(
        t,
      )
    )
      out.signatureProblems.push(t);
  }
  out.lockdownState = lockdownOf(lockLines, cmdlineMode);
  return out;
}
