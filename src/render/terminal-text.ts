/**
 * Text from hosts (command output, messages, names) is shown on a terminal as data, never as instructions to it:
 * C0 and C1 control characters except newline and tab (ESC starts every escape sequence: titles, colours, cursor
 * moves, OSC 52 clipboard writes), DEL, and the Unicode bidi controls that reorder what a line seems to say
 * (U+202A–202E, U+2066–2069, U+200E/200F, U+061C) are printed escaped, as `\x1b` or `\u202e`. JSON output stays raw.
 */

const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escaped(ch: string): string {
  const code = ch.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** The text with every unsafe character shown as an escape; newlines and tabs stay. */
export function escapeTerminal(text: string): string {
  return text.replace(UNSAFE, escaped);
}

/** A deep copy of an event (or any data) with every string escaped, for renderers that build text from it. */
export function terminalSafe<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return escapeTerminal(value) as T;
  if (value === null || typeof value !== 'object' || depth > 32) return value;
  if (Array.isArray(value)) return value.map((v) => terminalSafe(v, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>))
    out[escapeTerminal(k)] = terminalSafe(v, depth + 1);
  return out as T;
}

/** A write function that escapes everything it is given (for plain renderers, which add no colours of their own). */
export function terminalWriter(write: (text: string) => void): (text: string) => void {
  return (text) => write(escapeTerminal(text));
}
