/**
 * Kernel command-line arguments as words: which ones a `present` / `absent` list asks for, and edits of a
 * whitespace-separated value that keep every other byte where it was. Pure.
 *
 * Matching follows the kernel: '-' and '_' are the same in a parameter name. `absent: [intel_iommu]` removes
 * every `intel_iommu` and `intel_iommu=...`; `absent: [intel_iommu=on]` removes only that word. `present:
 * [iommu=pt]` is satisfied by the word itself and removes other values of `iommu` (the kernel takes the last).
 */

/** Characters a kernel argument may contain here: enough for real arguments, nothing a shell or GRUB expands. */
const ARG_SYNTAX = /^[A-Za-z0-9_.,:=+/@%~-]+$/;

/** Why an argument is refused, or null when it is acceptable. */
export function kernelArgProblem(arg: string): string | null {
  if (arg.length === 0) return 'an empty kernel argument';
  if (arg.length > 512) return 'a kernel argument longer than 512 characters';
  if (!ARG_SYNTAX.test(arg) || arg.startsWith('=')) {
    return `kernel argument ${JSON.stringify(arg)} contains characters rollgate does not write into boot configuration (allowed: letters, digits and _ . , : = + / @ % ~ -)`;
  }
  return null;
}

/** The parameter name, '-' folded to '_'. */
export function argKey(word: string): string {
  const eq = word.indexOf('=');
  return (eq === -1 ? word : word.slice(0, eq)).replace(/-/g, '_');
}

const sameWord = (a: string, b: string): boolean =>
  argKey(a) === argKey(b) && a.slice(argKey(a).length) === b.slice(argKey(b).length);

/** Whether a word on the command line is one an `absent` entry asks to remove. */
export function matchesAbsent(word: string, spec: string): boolean {
  return spec.includes('=') ? sameWord(word, spec) : argKey(word) === argKey(spec);
}

/** Whether a word conflicts with a wanted `present` argument (same name, another value). */
export function conflictsWithPresent(word: string, spec: string): boolean {
  return spec.includes('=') && argKey(word) === argKey(spec) && !sameWord(word, spec);
}

export interface ArgRequest {
  present: readonly string[];
  absent: readonly string[];
}

/** Whether a word must go: asked absent, or another value of a present argument. */
export function wordMustGo(word: string, req: ArgRequest): boolean {
  return req.absent.some((s) => matchesAbsent(word, s)) || req.present.some((s) => conflictsWithPresent(word, s));
}

/** Words of a command line (whitespace separated). */
export function splitArgs(value: string): string[] {
  return value.split(/\s+/).filter((w) => w !== '');
}

/** Whether a list of words already satisfies the request. */
export function argsSatisfied(words: readonly string[], req: ArgRequest): boolean {
  return !words.some((w) => wordMustGo(w, req)) && req.present.every((p) => words.some((w) => sameWord(w, p)));
}

/** Present arguments missing from these words (after removals). */
export function missingArgs(words: readonly string[], req: ArgRequest): string[] {
  return req.present.filter((p) => !words.some((w) => sameWord(w, p)));
}

/** Remove the words that must go, each with the whitespace before it (or after it when it is first). */
export function removeWords(value: string, mustGo: (word: string) => boolean): string {
  let out = value;
  const words = [...value.matchAll(/\S+/g)].reverse();
  for (const m of words) {
    if (!mustGo(m[0])) continue;
    const start = m.index;
    const end = start + m[0].length;
    const before = /\s+$/.exec(out.slice(0, start));
    if (before && before.index + before[0].length === start && out.slice(0, before.index).trim() !== '') {
      out = out.slice(0, before.index) + out.slice(end);
    } else {
      const after = /^\s*/.exec(out.slice(end))![0];
      out = out.slice(0, start) + out.slice(end + after.length);
    }
  }
  return out;
}

/** Append words after the last word, keeping any trailing whitespace where it was. */
export function appendWords(value: string, words: readonly string[]): string {
  if (words.length === 0) return value;
  const trailing = /\s*$/.exec(value)![0];
  const body = value.slice(0, value.length - trailing.length);
  return (body === '' ? words.join(' ') : `${body} ${words.join(' ')}`) + trailing;
}

/** Edit one command-line value: remove what must go, then append what is missing. */
export function editArgs(value: string, req: ArgRequest): string {
  const removed = removeWords(value, (w) => wordMustGo(w, req));
  return appendWords(removed, missingArgs(splitArgs(removed), req));
}

/** Refusals for a request: bad syntax, an argument both present and absent. */
export function requestProblems(req: ArgRequest): string[] {
  const problems = [...req.present, ...req.absent].map(kernelArgProblem).filter((p): p is string => p !== null);
  for (const p of req.present) {
    if (req.absent.some((a) => matchesAbsent(p, a))) problems.push(`${p} is listed both as present and as absent`);
  }
  return problems;
}
