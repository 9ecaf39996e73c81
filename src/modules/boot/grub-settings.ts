/**
 * The GRUB settings a one-shot trial boot depends on, in `/etc/default/grub` and its `grub.d/*.cfg` drop-ins:
 * GRUB_DEFAULT (must be `saved`), GRUB_SAVEDEFAULT (must not be `true`) and GRUB_RECORDFAIL_TIMEOUT (Ubuntu's
 * recordfail must not wait at the menu forever). Read as grub-mkconfig reads them (files sourced in order, the
 * last assignment wins) and edited in place, the last assignment's value replaced, every other byte kept; a
 * setting assigned nowhere gets a line at the end of `/etc/default/grub`. Values rollgate cannot reason about
 * (`$VAR`, command substitution, a quote left open) are refused rather than guessed. Pure.
 */
import { scanAssignments, type GrubFile } from './grub-assignments.js';

export type GrubSetting = 'GRUB_DEFAULT' | 'GRUB_SAVEDEFAULT' | 'GRUB_RECORDFAIL_TIMEOUT';

interface SettingAssignment {
  /** Offsets of the value as written (with its quotes) in the file text. */
  start: number;
  end: number;
  value: string;
}

function assignments(file: GrubFile, name: GrubSetting): SettingAssignment[] {
  return scanAssignments(file, [name]).map((a) => {
    if (a.quote !== "'" && /[$`\\]/.test(a.inner))
      throw new Error(
        `${file.path}: ${name}=${file.text.slice(a.start, a.end)} is computed by the shell; rollgate will not rewrite it`,
      );
    return { start: a.start, end: a.end, value: a.inner };
  });
}

/** The value grub-mkconfig sees, or undefined when no file assigns it. */
export function grubSetting(files: readonly GrubFile[], name: GrubSetting): string | undefined {
  let value: string | undefined;
  for (const f of files) {
    const last = assignments(f, name).pop();
    if (last) value = last.value;
  }
  return value;
}

/** The files with `name` set to `value` (a plain word: letters, digits, `-`, `>` and `.`). */
export function setGrubSetting(files: readonly GrubFile[], name: GrubSetting, value: string): GrubFile[] {
  if (!/^[A-Za-z0-9.>-]+$/.test(value)) throw new Error(`${name}: ${JSON.stringify(value)} is not a plain value`);
  const out = files.map((f) => ({ ...f }));
  // The last file that assigns it, and there its last assignment: the one grub-mkconfig ends up with.
  for (const [at, f] of [...out.entries()].reverse()) {
    const last = assignments(f, name).pop();
    if (!last) continue;
    out[at] = { path: f.path, text: f.text.slice(0, last.start) + value + f.text.slice(last.end) };
    return out;
  }
  const first = out[0];
  if (!first) throw new Error(`no GRUB defaults file to set ${name} in`);
  const sep = first.text === '' || first.text.endsWith('\n') ? '' : '\n';
  out[0] = { path: first.path, text: `${first.text}${sep}${name}=${value}\n` };
  return out;
}

/**
 * After a failed boot (recordfail=1) grub.cfg sets its own menu timeout: `set timeout=${GRUB_RECORDFAIL_TIMEOUT:-30}`
 * on Debian, `:--1` (wait forever) on Ubuntu. Judge what grub.cfg says; only when it holds no such line (written by
 * another 00_header) fall back to the variable, unset meaning Ubuntu's forever.
 */
export function recordfailWaitsForever(grubCfg: string, variable: string | undefined): boolean {
  if (!/\brecordfail\b/.test(grubCfg)) return false;
  const timeouts = [...grubCfg.matchAll(/recordfail\}?"?\s*=\s*1\s*\]\s*;\s*then\s*\n\s*set timeout=(-?\d+)/g)].map(
    (m) => m[1],
  );
  if (timeouts.length > 0) return timeouts.some((t) => Number(t) < 0);
  return variable === undefined || variable === 'unset' || Number(variable) < 0;
}
