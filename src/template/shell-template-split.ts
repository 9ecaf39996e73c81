/**
 * `{{ }}` inside `command` / `shell` lines: split the operator's text into literal shell text and expressions,
 * and know for each expression whether it sits inside quotes of the literal text (as shlex reads them).
 * rollgate quotes every value itself, so `'{{ x }}'` would quote twice; the loader refuses it with a fix.
 */

export type ShellSegment =
  { kind: 'text'; text: string } | { kind: 'expr'; expr: string; quoted: boolean; start: number };

/** Index of the `}}` closing an expression that starts at `from`, skipping string literals; -1 if none. */
export function closingBraces(source: string, from: number): number {
  let quote: string | null = null;
  for (let i = from; i < source.length; i++) {
    const c = source.charAt(i);
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '}' && source[i + 1] === '}') return i;
  }
  return -1;
}

/** Split; null when a `{{` is never closed (the template check reports that). */
export function splitShellTemplate(source: string): ShellSegment[] | null {
  const out: ShellSegment[] = [];
  let shellQuote: "'" | '"' | null = null;
  let text = '';
  for (let i = 0; i < source.length; i++) {
    const c = source.charAt(i);
    if (c === '{' && source[i + 1] === '{') {
      const end = closingBraces(source, i + 2);
      if (end < 0) return null;
      if (text) out.push({ kind: 'text', text });
      text = '';
      out.push({ kind: 'expr', expr: source.slice(i + 2, end).trim(), quoted: shellQuote !== null, start: i });
      i = end + 1;
      continue;
    }
    text += c;
    if (c === '\\' && shellQuote !== "'" && i + 1 < source.length) text += source.charAt(++i);
    else if (shellQuote === null && (c === "'" || c === '"')) shellQuote = c;
    else if (shellQuote === c) shellQuote = null;
  }
  if (text) out.push({ kind: 'text', text });
  return out;
}
