/**
 * Python/Jinja value semantics the filters and tests share: truthiness (an empty list is false), keyword
 * arguments as nunjucks passes them, dotted attribute paths, Python regex and replacement syntax, and
 * Ansible's loose version comparison.
 */

/** Python truthiness: empty strings, lists, dicts, 0, None and False are false. */
export function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof Map || value instanceof Set) return value.size > 0;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
  return Boolean(value);
}

/** nunjucks passes `f(a, key=b)` as (a, {key: b, __keywords: true}). */
export function kwargs(args: unknown[]): { args: unknown[]; kw: Record<string, unknown> } {
  const last = args[args.length - 1];
  if (typeof last === 'object' && last !== null && (last as Record<string, unknown>).__keywords === true) {
    const { __keywords, ...kw } = last as Record<string, unknown>;
    void __keywords;
    return { args: args.slice(0, -1), kw };
  }
  return { args, kw: {} };
}

/** `a.b.0.c` on nested dicts and lists, own keys only (never `constructor` & co.); undefined when a step is missing. */
export function lookupPath(value: unknown, path: string): unknown {
  let cur = value;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object' || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Set a key as data: `__proto__` becomes an own key instead of replacing the object's prototype. */
export function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Python `re` syntax to a JS RegExp: named groups `(?P<n>...)`, back-references `(?P=n)`. */
export function pythonRegex(pattern: string, flags: string): RegExp {
  const js = pattern.replace(/\(\?P<(\w+)>/g, '(?<$1>').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  return new RegExp(js, flags);
}

/** Python replacement syntax (`\1`, `\g<name>`, `\g<1>`) to JS (`$1`, `$<name>`); a literal `$` stays literal. */
export function pythonReplacement(replacement: string): string {
  return replacement
    .replace(/\$/g, '$$$$')
    .replace(/\\g<(\d+)>/g, '$$$1')
    .replace(/\\g<(\w+)>/g, '$$<$1>')
    .replace(/\\(\d+)/g, '$$$1');
}

function versionParts(v: string): Array<number | string> {
  return (String(v).match(/\d+|[a-zA-Z]+/g) ?? []).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** Loose version comparison (as Ansible's `version` test): -1, 0 or 1. */
export function compareVersions(a: string, b: string): number {
  const pa = versionParts(a);
  const pb = versionParts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1;
    // As LooseVersion: numbers sort before letters.
    if (typeof x !== typeof y) return typeof x === 'number' ? -1 : 1;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

const versionOps: Record<string, (c: number) => boolean> = {
  '<': (c) => c < 0,
  lt: (c) => c < 0,
  '<=': (c) => c <= 0,
  le: (c) => c <= 0,
  '>': (c) => c > 0,
  gt: (c) => c > 0,
  '>=': (c) => c >= 0,
  ge: (c) => c >= 0,
  '==': (c) => c === 0,
  '=': (c) => c === 0,
  eq: (c) => c === 0,
  '!=': (c) => c !== 0,
  '<>': (c) => c !== 0,
  ne: (c) => c !== 0,
};

/** `value is version('6.1', '>=')`. */
export function versionTest(value: unknown, other: unknown, op: unknown = 'eq'): boolean {
  const { args, kw } = kwargs([op]);
  const operator = String(kw.operator ?? args[0] ?? 'eq');
  const check = versionOps[operator];
  if (!check)
    throw new Error(`version test: unknown operator '${operator}', use one of ${Object.keys(versionOps).join(' ')}`);
  return check(compareVersions(String(value), String(other)));
}
