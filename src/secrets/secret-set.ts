/**
 * The secret values of one run, and the scrubber that takes every one of them out of text and data before it
 * is stored, emitted or printed. A value is scrubbed as written and in the forms it takes on the way out: inside
 * POSIX single quotes (`'\''` for a quote), JSON-escaped, base64 and URL-encoded, and each line of a multi-line
 * value. Values shorter than MIN_SECRET_LENGTH are not scrubbed (they would blank out ordinary words).
 */

/** What a scrubbed value (or a value under a secret name) is replaced with. */
export const SCRUBBED = '[redacted]';

/** Shorter values are too likely to be ordinary text to be scrubbed everywhere. */
export const MIN_SECRET_LENGTH = 4;

/** Values that are flags rather than secrets, whatever their variable is called. */
const NOT_SECRET = new Set(['true', 'false', 'yes', 'no', 'none', 'null', 'on', 'off', SCRUBBED]);

function formsOf(value: string): string[] {
  const forms = new Set<string>([value]);
  const shellInner = value.replace(/'/g, `'\\''`);
  forms.add(shellInner);
  for (const f of [value, shellInner]) forms.add(JSON.stringify(f).slice(1, -1));
  forms.add(Buffer.from(value).toString('base64'));
  forms.add(encodeURIComponent(value));
  if (value.includes('\n')) for (const line of value.split('\n')) forms.add(line.trim());
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

export class SecretSet {
  private readonly values = new Set<string>();
  /** Every form of every value, longest first (a secret containing another is replaced whole), in one pass. */
  private pattern: RegExp | undefined;
  private dirty = false;

  /** Number of distinct secret values. */
  get size(): number {
    return this.values.size;
  }

  /**
   * Add a value: strings as they are (and trimmed), numbers of 6 digits or more, every leaf of a list or mapping.
   * Booleans, short values and flag words (`true`, `none` ...) are ignored.
   */
  add(value: unknown, depth = 0): void {
    if (depth > 16 || value === null || value === undefined) return;
    if (Array.isArray(value)) {
      for (const v of value) this.add(v, depth + 1);
      return;
    }
    if (typeof value === 'object') {
      if (Buffer.isBuffer(value)) return;
      for (const v of Object.values(value as Record<string, unknown>)) this.add(v, depth + 1);
      return;
    }
    if (typeof value === 'number' || typeof value === 'bigint') {
      if (String(value).replace(/^-/, '').length >= 6) this.addString(String(value));
      return;
    }
    if (typeof value === 'string') {
      this.addString(value);
      if (value.trim() !== value) this.addString(value.trim());
    }
  }

  private addString(value: string): void {
    if (value.length < MIN_SECRET_LENGTH || NOT_SECRET.has(value.toLowerCase()) || this.values.has(value)) return;
    this.values.add(value);
    this.dirty = true;
  }

  /** Whether `value` is one of the secrets (exactly). */
  has(value: string): boolean {
    return this.values.has(value);
  }

  private matcher(): RegExp | undefined {
    if (this.dirty) {
      const forms = [...new Set([...this.values].flatMap(formsOf))].sort((a, b) => b.length - a.length);
      this.pattern = forms.length
        ? new RegExp(forms.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g')
        : undefined;
      this.dirty = false;
    }
    return this.pattern;
  }

  /** The text with every form of every secret replaced by SCRUBBED (one pass: replacements are not rescanned). */
  scrubText(text: string): string {
    const re = this.matcher();
    if (!re) return text;
    const out = text.replace(re, SCRUBBED);
    return out.endsWith('…') ? this.scrubCutEnd(out) : out;
  }

  /** A line cut short ("…") may end in the first part of a secret: that part goes too. */
  private scrubCutEnd(text: string): string {
    const cut = text.replace(/ ?…$/, '');
    let longest = 0;
    for (const value of this.values) {
      for (let k = Math.min(value.length - 1, cut.length); k >= MIN_SECRET_LENGTH && k > longest; k--) {
        if (cut.endsWith(value.slice(0, k))) longest = k;
      }
    }
    return longest ? `${cut.slice(0, cut.length - longest)}${SCRUBBED}…` : text;
  }

  /** A deep copy with every string (values and keys) scrubbed. Buffers are kept; depth is bounded. */
  scrub<T>(value: T, depth = 0): T {
    if (this.values.size === 0) return value;
    if (typeof value === 'string') return this.scrubText(value) as T;
    if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
    if (depth > 64) return SCRUBBED as T;
    if (Array.isArray(value)) return value.map((v) => this.scrub(v, depth + 1)) as T;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      out[this.scrubText(k)] = this.scrub(v, depth + 1);
    return out as T;
  }

  /** An error with its message and stack scrubbed (same class, so callers still recognise it). */
  scrubError<E>(err: E): E {
    if (!(err instanceof Error) || this.values.size === 0) return err;
    err.message = this.scrubText(err.message);
    if (err.stack) err.stack = this.scrubText(err.stack);
    return err;
  }
}
