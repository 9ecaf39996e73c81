/**
 * The Ansible filters operators use, on top of nunjucks' own (default, join, length, int, lower, upper,
 * replace, first, last, sort, unique ...). Each is a plain function; `this` is nunjucks' context where needed.
 */
import { dump, load } from 'js-yaml';
import { expandsTooFar, MAX_EXPANDED_VALUES } from '../core/expanded-size.js';
import { isTruthy, kwargs, lookupPath, pythonRegex, pythonReplacement, setKey } from './template-values.js';

type NjContext = {
  env: { getFilter(name: string): (...a: unknown[]) => unknown; getTest(name: string): (...a: unknown[]) => unknown };
};

function asList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [...value];
  if (typeof value === 'object') return Object.keys(value as object);
  return [value];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const uniq = (xs: unknown[]): unknown[] => xs.filter((x, i) => xs.findIndex((y) => same(x, y)) === i);

function bool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1;
  if (typeof value === 'string') return ['yes', 'on', '1', 'true', 'y', 't'].includes(value.trim().toLowerCase());
  return false;
}

function regexReplace(value: unknown, pattern: string, replacement = '', ...rest: unknown[]): string {
  const { args, kw } = kwargs(rest);
  const ignorecase = bool(kw.ignorecase ?? args[0]);
  const multiline = bool(kw.multiline ?? args[1]);
  const re = pythonRegex(pattern, 'g' + (ignorecase ? 'i' : '') + (multiline ? 'm' : ''));
  return String(value ?? '').replace(re, pythonReplacement(replacement));
}

function regexSearch(value: unknown, pattern: string, ...rest: unknown[]): unknown {
  const { args, kw } = kwargs(rest);
  const re = pythonRegex(pattern, (bool(kw.ignorecase) ? 'i' : '') + (bool(kw.multiline) ? 'm' : ''));
  const m = re.exec(String(value ?? ''));
  if (!m) return null;
  if (args.length === 0) return m[0];
  // Ansible: regex_search(s, re, '\\1', '\\g<name>') returns the listed groups.
  return args.map((g) => {
    const s = String(g);
    const num = /^\\(\d+)$/.exec(s);
    if (num) return m[Number(num[1])] ?? null;
    const named = /^\\g<(\w+)>$/.exec(s);
    if (named) return m.groups?.[named[1]!] ?? null;
    return null;
  });
}

function regexFindall(value: unknown, pattern: string): unknown[] {
  const re = pythonRegex(pattern, 'g');
  return [...String(value ?? '').matchAll(re)].map((m) => (m.length > 2 ? m.slice(1) : (m[1] ?? m[0])));
}

function split(value: unknown, sep?: string | null, max?: number): string[] {
  const s = String(value ?? '');
  if (sep === undefined || sep === null) return s.trim() === '' ? [] : s.trim().split(/\s+/);
  const parts = s.split(sep);
  if (max === undefined || max < 0 || parts.length <= max + 1) return parts;
  return [...parts.slice(0, max), parts.slice(max).join(sep)];
}

function map(this: NjContext, value: unknown, ...rest: unknown[]): unknown[] {
  const { args, kw } = kwargs(rest);
  const items = asList(value);
  if (typeof kw.attribute === 'string') return items.map((x) => lookupPath(x, kw.attribute as string) ?? kw.default);
  const [filterName, ...filterArgs] = args;
  if (typeof filterName !== 'string') throw new Error('map needs a filter name or attribute=');
  const filter = this.env.getFilter(filterName);
  return items.map((x) => filter.call(this, x, ...filterArgs));
}

function attrFilter(keep: boolean) {
  return function (
    this: NjContext,
    value: unknown,
    attr: string,
    testName?: string,
    ...testArgs: unknown[]
  ): unknown[] {
    const test = testName ? this.env.getTest(testName) : null;
    return asList(value).filter((item) => {
      const v = lookupPath(item, attr);
      const ok = test ? test.call(this, v, ...testArgs) === true : isTruthy(v);
      return ok === keep;
    });
  };
}

function ternary(value: unknown, yes: unknown, no: unknown, none?: unknown): unknown {
  if ((value === null || value === undefined) && none !== undefined) return none;
  return isTruthy(value) ? yes : no;
}

function combine(...dicts: unknown[]): Record<string, unknown> {
  const { args, kw } = kwargs(dicts);
  const deep = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) {
      const prev = Object.hasOwn(out, k) ? out[k] : undefined;
      setKey(out, k, kw.recursive && isPlainObject(prev) && isPlainObject(v) ? deep(prev, v) : v);
    }
    return out;
  };
  return args.reduce<Record<string, unknown>>((acc, d) => deep(acc, (d ?? {}) as Record<string, unknown>), {});
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function flatten(value: unknown, levels?: number): unknown[] {
  const depth = levels === undefined ? Infinity : levels;
  return asList(value).flat(depth as 1);
}

function zip(...lists: unknown[]): unknown[][] {
  const arrays = lists.map(asList);
  const n = Math.min(...arrays.map((a) => a.length));
  return Array.from({ length: n }, (_, i) => arrays.map((a) => a[i]));
}

function zipLongest(...rest: unknown[]): unknown[][] {
  const { args, kw } = kwargs(rest);
  const arrays = args.map(asList);
  const n = Math.max(0, ...arrays.map((a) => a.length));
  return Array.from({ length: n }, (_, i) => arrays.map((a) => (i < a.length ? a[i] : (kw.fillvalue ?? null))));
}

/** Jinja's dict(): from pairs, a mapping, or keyword arguments. */
export function dictGlobal(...rest: unknown[]): Record<string, unknown> {
  const { args, kw } = kwargs(rest);
  const out: Record<string, unknown> = {};
  for (const a of args) {
    if (Array.isArray(a)) for (const pair of a) setKey(out, String((pair as unknown[])[0]), (pair as unknown[])[1]);
    else if (isPlainObject(a)) for (const [k, v] of Object.entries(a)) setKey(out, k, v);
  }
  for (const [k, v] of Object.entries(kw)) setKey(out, k, v);
  return out;
}

/** YAML from a host's output is data like any other: an alias bomb in it is refused, not walked. */
function fromYaml(v: unknown): unknown {
  const value = load(String(v));
  if (expandsTooFar(value))
    throw new Error(
      `from_yaml: the text expands to more than ${MAX_EXPANDED_VALUES} values (YAML aliases that repeat aliases?)`,
    );
  return value;
}

/** Jinja's `int` as Ansible has it: whole numbers in `base`, "42.23" gives 42, anything else `default` (0). */
function toInt(value: unknown, ...rest: unknown[]): unknown {
  const { args, kw } = kwargs(rest);
  const fallback = kw.default ?? args[0] ?? 0;
  const base = Number(kw.base ?? args[1] ?? 10);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : fallback;
  const text = String(value ?? '')
    .trim()
    .replace(/(?<=[0-9a-z])_(?=[0-9a-z])/gi, '');
  const prefix = ({ 16: /^0x/i, 8: /^0o/i, 2: /^0b/i } as Record<number, RegExp>)[base];
  const body = text.replace(/^[+-]/, '').replace(prefix ?? /^(?!)/, '');
  const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, base);
  if (body !== '' && [...body.toLowerCase()].every((c) => digits.includes(c)))
    return (text.startsWith('-') ? -1 : 1) * parseInt(body, base);
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i.test(text)) return Math.trunc(Number(text));
  return fallback;
}

/** Ansible's `quote` (Python's shlex.quote): one word for a POSIX shell that reads the text again. */
function shellQuote(value: unknown): string {
  const s = String(value ?? '');
  if (s === '') return "''";
  return /[^\w@%+=:,./-]/.test(s) ? `'${s.replace(/'/g, `'"'"'`)}'` : s;
}

export const ansibleFilters: Record<string, (...args: never[]) => unknown> = {
  bool,
  int: toInt,
  quote: shellQuote,
  regex_replace: regexReplace,
  regex_search: regexSearch,
  regex_findall: regexFindall,
  ternary,
  map,
  selectattr: attrFilter(true),
  rejectattr: attrFilter(false),
  unique: (v: unknown) => uniq(asList(v)),
  union: (a: unknown, b: unknown) => uniq([...asList(a), ...asList(b)]),
  difference: (a: unknown, b: unknown) => uniq(asList(a).filter((x) => !asList(b).some((y) => same(x, y)))),
  intersect: (a: unknown, b: unknown) => uniq(asList(a).filter((x) => asList(b).some((y) => same(x, y)))),
  symmetric_difference: (a: unknown, b: unknown) =>
    uniq([
      ...asList(a).filter((x) => !asList(b).some((y) => same(x, y))),
      ...asList(b).filter((x) => !asList(a).some((y) => same(x, y))),
    ]),
  to_json: (v: unknown) => JSON.stringify(v ?? null),
  to_nice_json: (v: unknown, ...rest: unknown[]) =>
    JSON.stringify(v ?? null, null, Number(kwargs(rest).kw.indent ?? 4)),
  from_json: (v: unknown) => JSON.parse(String(v)),
  to_yaml: (v: unknown) => dump(v),
  from_yaml: fromYaml,
  split,
  combine,
  flatten,
  zip,
  zip_longest: zipLongest,
  dict2items: (v: unknown) =>
    Object.entries((v ?? {}) as Record<string, unknown>).map(([key, value]) => ({ key, value })),
  items2dict: (v: unknown) =>
    Object.fromEntries(asList(v).map((i) => [(i as { key: string }).key, (i as { value: unknown }).value])),
  min: (v: unknown) => asList(v).reduce((a, b) => ((b as number) < (a as number) ? b : a)),
  max: (v: unknown) => asList(v).reduce((a, b) => ((b as number) > (a as number) ? b : a)),
  string: (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? '')),
  mandatory: (v: unknown) => v,
  basename: (v: unknown) => String(v).replace(/\/+$/, '').split('/').pop() ?? '',
  dirname: (v: unknown) => String(v).replace(/\/[^/]*$/, '') || '/',
  b64encode: (v: unknown) => Buffer.from(String(v), 'utf8').toString('base64'),
  b64decode: (v: unknown) => Buffer.from(String(v), 'base64').toString('utf8'),
  type_debug: (v: unknown) =>
    v === null ? 'NoneType' : Array.isArray(v) ? 'list' : typeof v === 'object' ? 'dict' : typeof v,
};
