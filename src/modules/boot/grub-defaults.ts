/**
 * `/etc/default/grub` and its `grub.d/*.cfg` drop-ins: find the GRUB_CMDLINE_LINUX(_DEFAULT) assignments,
 * work out the value grub-mkconfig will see (the files are sourced in order, later ones win), and edit
 * values in place so every other byte of the files stays as it was. Pure.
 */
import {
  editArgs,
  missingArgs,
  removeWords,
  splitArgs,
  wordMustGo,
  appendWords,
  type ArgRequest,
} from './cmdline-args.js';
import { scanAssignments, type GrubFile } from './grub-assignments.js';

export type CmdlineVar = 'GRUB_CMDLINE_LINUX' | 'GRUB_CMDLINE_LINUX_DEFAULT';

export interface Assignment {
  name: CmdlineVar;
  /** Offsets of the value's inner text (inside the quotes, if any) in the file text. */
  start: number;
  end: number;
  quote: '"' | "'" | '';
  value: string;
}

export type { GrubFile };

/** Every cmdline assignment of a file, in order. Throws on values rollgate cannot edit safely. */
export function findAssignments(file: GrubFile): Assignment[] {
  return scanAssignments(file, ['GRUB_CMDLINE_LINUX', 'GRUB_CMDLINE_LINUX_DEFAULT']).map((a) => {
    if (a.quote === '"' && /\\|`|\$\(/.test(a.inner))
      throw new Error(`${file.path}: ${a.name} uses backslashes or command substitution; rollgate will not rewrite it`);
    if (!a.quote && /[\\$`'"]/.test(a.inner))
      throw new Error(`${file.path}: ${a.name} has an unquoted value rollgate cannot edit safely; quote it`);
    return {
      name: a.name as CmdlineVar,
      start: a.innerStart,
      end: a.innerStart + a.inner.length,
      quote: a.quote,
      value: a.inner,
    };
  });
}

/** The values grub-mkconfig ends up with after sourcing the files in order (`$VAR` of the same name expanded). */
export function effectiveCmdline(files: readonly GrubFile[]): Record<CmdlineVar, string> {
  const env: Record<CmdlineVar, string> = { GRUB_CMDLINE_LINUX: '', GRUB_CMDLINE_LINUX_DEFAULT: '' };
  for (const f of files) {
    for (const a of findAssignments(f)) {
      env[a.name] =
        a.quote === "'"
          ? a.value
          : a.value.replace(
              /\$\{?(GRUB_CMDLINE_LINUX(?:_DEFAULT)?)\}?(?![A-Za-z0-9_])/g,
              (_m, v: CmdlineVar) => env[v],
            );
    }
  }
  return env;
}

/** The words of both variables, the way they reach a normal (non-recovery) boot entry. */
export function effectiveWords(files: readonly GrubFile[]): string[] {
  const env = effectiveCmdline(files);
  return [...splitArgs(env.GRUB_CMDLINE_LINUX), ...splitArgs(env.GRUB_CMDLINE_LINUX_DEFAULT)];
}

function replaceValue(text: string, a: Assignment, value: string): string {
  // An unquoted value that gains a space needs quotes to stay one shell word.
  const needsQuotes = a.quote === '' && /\s/.test(value);
  const inner = needsQuotes ? `"${value}"` : value;
  return text.slice(0, a.start) + inner + text.slice(a.end);
}

/**
 * New contents of the files for a request: words that must go are removed from every assignment of both
 * variables (literal words only; `$VAR` references are left alone), and missing words are appended to the last
 * GRUB_CMDLINE_LINUX assignment (or a new line at the end of the first file when there is none).
 */
export function editGrubFiles(files: readonly GrubFile[], req: ArgRequest): GrubFile[] {
  const edited = files.map((f) => {
    let text = f.text;
    for (const a of findAssignments(f).reverse()) {
      const value = removeWords(a.value, (w) => !w.includes('$') && wordMustGo(w, req));
      if (value !== a.value) text = replaceValue(text, a, value);
    }
    return { path: f.path, text };
  });
  const missing = missingArgs(effectiveWords(edited), req);
  if (missing.length === 0) return edited;
  for (let i = edited.length - 1; i >= 0; i--) {
    const f = edited[i]!;
    const last = findAssignments(f)
      .filter((a) => a.name === 'GRUB_CMDLINE_LINUX')
      .pop();
    if (last) {
      edited[i] = { path: f.path, text: replaceValue(f.text, last, appendWords(last.value, missing)) };
      return edited;
    }
  }
  const first = edited[0]!;
  const sep = first.text === '' || first.text.endsWith('\n') ? '' : '\n';
  edited[0] = { path: first.path, text: `${first.text}${sep}GRUB_CMDLINE_LINUX="${missing.join(' ')}"\n` };
  return edited;
}

/** Edit a one-line file such as /etc/kernel/cmdline, keeping its line ending and any further lines. */
export function editCmdlineFile(text: string, req: ArgRequest): string {
  const nl = text.indexOf('\n');
  const line = nl === -1 ? text : text.slice(0, nl);
  return editArgs(line, req) + (nl === -1 ? '' : text.slice(nl));
}
