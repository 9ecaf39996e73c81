/**
 * Shell assignments in `/etc/default/grub` and its drop-ins, found as grub-mkconfig's `.` sees the simple ones:
 * `[export] NAME=value` at the start of a line, the value quoted ('…' or "…", closed on the same line) or a bare
 * word. The scanner gives each assignment's offsets; callers decide what they will edit (grub-defaults.ts for the
 * kernel command line, grub-settings.ts for the trial-boot settings). Pure.
 */
export interface GrubFile {
  path: string;
  text: string;
}

export interface RawAssignment {
  name: string;
  quote: '"' | "'" | '';
  /** The value as written, quotes included: [start, end) in the file text. */
  start: number;
  end: number;
  /** The text inside the quotes (the whole word when unquoted), starting at `innerStart`. */
  inner: string;
  innerStart: number;
}

/** Every assignment of one of `names`, in file order; throws on a quote that does not close on its line. */
export function scanAssignments(file: GrubFile, names: readonly string[]): RawAssignment[] {
  const line = new RegExp(`^([ \\t]*(?:export[ \\t]+)?)(${names.join('|')})=`);
  const out: RawAssignment[] = [];
  let offset = 0;
  for (const text of file.text.split('\n')) {
    const m = line.exec(text);
    if (m) {
      const name = m[2] ?? '';
      const rest = text.slice(m[0].length);
      const quote = rest[0] === '"' || rest[0] === "'" ? rest[0] : '';
      let written: string;
      if (quote) {
        const close = rest.indexOf(quote, 1);
        if (close < 0)
          throw new Error(
            `${file.path}: ${name} opens a ${quote} quote that does not close on the same line; edit it by hand or put it on one line`,
          );
        written = rest.slice(0, close + 1);
      } else written = /^[^\s;#]*/.exec(rest)?.[0] ?? '';
      const start = offset + m[0].length;
      const inner = quote ? written.slice(1, -1) : written;
      out.push({ name, quote, start, end: start + written.length, inner, innerStart: start + (quote ? 1 : 0) });
    }
    offset += text.length + 1;
  }
  return out;
}
