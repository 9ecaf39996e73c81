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

export interface SecurityLog {
  /** `Lockdown: ...` and `Kernel is locked down ...` lines. */
  lockdown: string[];
  /** `secureboot: Secure boot enabled` / `disabled`. */
  secureBoot: SecureBoot | null;
  /** Modules refused or loaded without a valid signature. */
  signatureProblems: string[];
}

export function parseSecurityLog(text: string): SecurityLog {
  const out: SecurityLog = { lockdown: [], secureBoot: null, signatureProblems: [] };
  for (const { text: t } of kernelLines(text)) {
    if (/^Lockdown:|locked down/i.test(t)) out.lockdown.push(t);
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
  return out;
}
