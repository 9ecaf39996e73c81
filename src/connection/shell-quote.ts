/**
 * Every value that reaches a remote shell goes through here. POSIX single quotes: inside them no character is
 * special, so the only thing to escape is the single quote itself ('\'' closes, adds a literal quote, reopens).
 */

/** A fragment that is already shell syntax (built by `sh` or a constant), inserted as is. */
export class ShellFragment {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Values `sh` accepts: strings and numbers are quoted, arrays become several quoted words. */
export type ShellValue = string | number | bigint | boolean | ShellFragment | readonly ShellValue[];

/** Quote one word for a POSIX shell. The empty string becomes ''. */
export function quote(value: string): string {
  if (value === '') return "''";
  if (/^[A-Za-z0-9_\-./:=@%+,]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function render(value: ShellValue): string {
  if (value instanceof ShellFragment) return value.text;
  if (Array.isArray(value)) return value.map((v) => render(v as ShellValue)).join(' ');
  return quote(String(value));
}

/** Template tag: literal parts are shell syntax written by us, every `${value}` is quoted. */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): ShellFragment {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new ShellFragment(out);
}

/** Mark trusted shell text (a constant script, or text already built with `sh`). */
export function raw(text: string): ShellFragment {
  return new ShellFragment(text);
}

/** Join fragments with a separator such as ' && ' or '\n'. */
export function joinSh(parts: readonly ShellFragment[], separator: string): ShellFragment {
  return new ShellFragment(parts.map((p) => p.text).join(separator));
}
