/**
 * A kernel command line as people paste it when it is not /proc/cmdline:
 * - /etc/default/grub assignments, read as grub-mkconfig's `/bin/sh` reads them:
 *   `GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on"`, single quotes, no quotes, `$VAR` / `${VAR}` references
 *   to earlier assignments, `export`, comments; the line grub writes is GRUB_CMDLINE_LINUX then _DEFAULT;
 *   RHEL 8's grubenv `kernelopts=...` is taken as is;
 * - a grub.cfg menu entry line: `linux /vmlinuz-6.1.0-18-amd64 root=UUID=... ro quiet` (also linuxefi/linux16);
 * - the kernel log line `Kernel command line: ...` (or `Command line: ...`), with or without a dmesg prefix.
 * Returns null for a bare command line, which parseCmdline reads itself.
 */
import { stripLogPrefix } from './log-lines.js';

export interface GrubCmdline {
  cmdline: string;
  from: 'grub-default' | 'grub-cfg' | 'kernel-log';
}

const ASSIGN = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=/gm;

/** Read one sh word starting at `i`; returns its value (with $VAR expanded) and the index after it. */
function shWord(text: string, i: number, vars: Map<string, string>): { value: string; end: number } {
  let out = '';
  const expand = (at: number): { value: string; end: number } => {
    const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(text.slice(at));
    if (!m) return { value: '$', end: at + 1 };
    return { value: vars.get(m[1] ?? m[2] ?? '') ?? '', end: at + m[0].length };
  };
  while (i < text.length) {
    const ch = text.charAt(i);
    if (/[ \t\n;#]/.test(ch)) break;
    if (ch === "'") {
      const close = text.indexOf("'", i + 1);
      const stop = close < 0 ? text.length : close;
      out += text.slice(i + 1, stop);
      i = stop + 1;
    } else if (ch === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && /["\\$`\n]/.test(text[i + 1] ?? '')) {
          if (text[i + 1] !== '\n') out += text[i + 1];
          i += 2;
        } else if (text[i] === '$') {
          const e = expand(i);
          out += e.value;
          i = e.end;
        } else out += text[i++];
      }
      i++;
    } else if (ch === '$') {
      const e = expand(i);
      out += e.value;
      i = e.end;
    } else if (ch === '\\') {
      out += text[i + 1] ?? '';
      i += 2;
    } else out += text[i++];
  }
  return { value: out, end: i };
}

function fromDefaultGrub(text: string): string | null {
  const vars = new Map<string, string>();
  let seen = false;
  let kernelopts: string | null = null;
  for (const m of text.matchAll(ASSIGN)) {
    const name = m[1] ?? '';
    const { value } = shWord(text, m.index + m[0].length, vars);
    vars.set(name, value);
    if (/^GRUB_CMDLINE_LINUX(_DEFAULT)?$/.test(name)) seen = true;
    if (name === 'kernelopts') kernelopts = value;
  }
  if (seen) {
    const parts = [vars.get('GRUB_CMDLINE_LINUX') ?? '', vars.get('GRUB_CMDLINE_LINUX_DEFAULT') ?? ''];
    return parts.join(' ').replace(/\s+/g, ' ').trim();
  }
  return kernelopts?.trim() ?? null;
}

export function grubCmdline(text: string): GrubCmdline | null {
  const assigned = fromDefaultGrub(text);
  if (assigned !== null) return { cmdline: assigned, from: 'grub-default' };
  for (const raw of text.split('\n')) {
    const linux = /^\s*linux(?:efi|16)?\s+(\S+)\s*(.*)$/.exec(raw);
    if (linux) return { cmdline: `BOOT_IMAGE=${linux[1]} ${linux[2]}`.trim(), from: 'grub-cfg' };
    const logged = /^(?:Kernel )?[Cc]ommand line:\s*(.*)$/.exec(stripLogPrefix(raw).text);
    if (logged) return { cmdline: (logged[1] ?? '').trim(), from: 'kernel-log' };
  }
  return null;
}
