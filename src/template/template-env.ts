/**
 * The one nunjucks environment rollgate templates with: no HTML escaping (values are data, not markup),
 * output of an undefined value is an error, Jinja compatibility (True/False/None, dict.items(), slices),
 * Python string methods, and the Ansible filters and tests.
 */
import nunjucks from 'nunjucks';
import { ansibleFilters, dictGlobal } from './template-filters.js';
import { ansibleTests } from './template-tests.js';
import type { NjNode } from './template-names.js';
import { installSandbox } from './template-sandbox.js';
import {
  defaultFilter,
  installUndefinedSemantics,
  strictFunctions,
  undefinedTests,
  useDeep,
} from './template-undefined.js';

/** Names the environment itself provides; never looked up among the play's variables. */
export const templateGlobals = new Set([
  'True',
  'False',
  'None',
  'true',
  'false',
  'none',
  'range',
  'cycler',
  'joiner',
  'dict',
  'lipsum',
  'loop',
  '__rg_capture',
]);

type Fn = (...args: unknown[]) => unknown;

const stringMembers: Record<string, (s: string, ...a: unknown[]) => unknown> = {
  startswith: (s, p) => (Array.isArray(p) ? p.some((x) => s.startsWith(String(x))) : s.startsWith(String(p))),
  endswith: (s, p) => (Array.isArray(p) ? p.some((x) => s.endsWith(String(x))) : s.endsWith(String(p))),
  strip: (s, chars) => (chars === undefined ? s.trim() : stripChars(s, String(chars), true, true)),
  lstrip: (s, chars) => (chars === undefined ? s.trimStart() : stripChars(s, String(chars), true, false)),
  rstrip: (s, chars) => (chars === undefined ? s.trimEnd() : stripChars(s, String(chars), false, true)),
  lower: (s) => s.toLowerCase(),
  upper: (s) => s.toUpperCase(),
  split: (s, sep, max) => ansibleFilters.split!(s as never, sep as never, max as never),
  splitlines: (s) => s.split(/\r?\n/).filter((l, i, all) => i < all.length - 1 || l !== ''),
  replace: (s, a, b) => s.split(String(a)).join(String(b)),
  find: (s, sub) => s.indexOf(String(sub)),
  count: (s, sub) => s.split(String(sub)).length - 1,
  isdigit: (s) => /^\d+$/.test(s),
  join: (s, items) => (items as unknown[]).map(String).join(s),
};

function stripChars(s: string, chars: string, left: boolean, right: boolean): string {
  let a = 0;
  let b = s.length;
  while (left && a < b && chars.includes(s.charAt(a))) a++;
  while (right && b > a && chars.includes(s.charAt(b - 1))) b--;
  return s.slice(a, b);
}

let patched = false;

/** Jinja compat and Python string methods: process-wide patches of nunjucks' runtime, applied once. */
function patchRuntime(): void {
  if (patched) return;
  patched = true;
  nunjucks.installJinjaCompat();
  const runtime = nunjucks.runtime as unknown as {
    memberLookup: Fn;
    suppressValue: Fn;
    callWrap: Fn;
    contextOrFrameLookup: Fn;
  };
  // Printed booleans read as Python prints them (Ansible templates with Python): True / False. Lists and
  // mappings print as JSON rather than JavaScript's "a,b" and "[object Object]".
  const suppress = runtime.suppressValue;
  runtime.suppressValue = function suppressValue(this: unknown, ...args: unknown[]) {
    const value = args[0];
    if (typeof value === 'boolean') return value ? 'True' : 'False';
    if (
      typeof value === 'object' &&
      value !== null &&
      (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype)
    )
      return JSON.stringify(value);
    return suppress.apply(this, args);
  };
  const original = runtime.memberLookup;
  runtime.memberLookup = function memberLookup(this: unknown, ...args: unknown[]) {
    const [obj, key] = args;
    if (typeof obj === 'string' && typeof key === 'string' && Object.hasOwn(stringMembers, key)) {
      return (...a: unknown[]) => stringMembers[key]!(obj, ...a);
    }
    return original.apply(this, args);
  };
  // nunjucks 3.2.4 emits a test's arguments without commas, so `x is version('6.1', '>=')` does not compile.
  const compiler = (nunjucks as unknown as { compiler: { Compiler: { prototype: Record<string, unknown> } } }).compiler;
  compiler.Compiler.prototype.compileIs = function compileIs(this: CompilerThis, node: IsNode, frame: unknown) {
    const right = node.right.name ? node.right.name.value : node.right.value;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(right)) throw new Error(`bad test name ${JSON.stringify(right)}`);
    this._emit(`env.getTest("${right}").call(context, `);
    this.compile(node.left, frame);
    if (node.right.args) {
      this._emit(',');
      this._compileAggregate(node.right.args, frame, '', '');
    }
    this._emit(') === true');
  };
  installUndefinedSemantics(runtime as unknown as Record<string, Fn>, compiler.Compiler.prototype as never);
  // Last, so that it wraps every other patch: templates reach data, never the controller's runtime.
  installSandbox(runtime, nunjucks.Environment as unknown as Parameters<typeof installSandbox>[1]);
}

interface CompilerThis {
  _emit(code: string): void;
  compile(node: unknown, frame: unknown): void;
  _compileAggregate(node: unknown, frame: unknown, start: string, end: string): void;
}
interface IsNode {
  left: unknown;
  right: { name?: { value: string }; value: string; args?: unknown };
}

let env: nunjucks.Environment | undefined;

export function templateEnvironment(): nunjucks.Environment {
  if (env) return env;
  patchRuntime();
  const e = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  for (const [name, fn] of Object.entries(ansibleFilters)) e.addFilter(name, fn as Fn);
  const withTests = e as unknown as { addTest(name: string, fn: Fn): void };
  for (const [name, fn] of Object.entries(ansibleTests)) withTests.addTest(name, fn as Fn);
  e.addFilter('default', defaultFilter as Fn);
  e.addFilter('d', defaultFilter as Fn);
  for (const [name, fn] of Object.entries(undefinedTests)) withTests.addTest(name, fn);
  // Only using an undefined value is an error: every filter and test but default/ternary/defined... uses its arguments.
  const tables = e as unknown as { filters: Record<string, Fn>; tests: Record<string, Fn> };
  strictFunctions(tables.filters, 'filters');
  strictFunctions(tables.tests, 'tests');
  e.addGlobal('__rg_capture', capture);
  e.addGlobal('dict', dictGlobal);
  env = e;
  return e;
}

/** Native evaluation: `{{ __rg_capture(expr) }}` hands the value back untouched instead of printing it. */
const captured: { value: unknown; set: boolean } = { value: undefined, set: false };
function capture(value: unknown): string {
  useDeep(value); // a value leaving the template is used, lists and mappings included
  captured.value = value;
  captured.set = true;
  return '';
}
export function takeCaptured(): { value: unknown; set: boolean } {
  const out = { ...captured };
  captured.value = undefined;
  captured.set = false;
  return out;
}

/** Filter and test names known to the environment (for load-time did-you-mean). */
export function knownFilters(): string[] {
  return Object.keys((templateEnvironment() as unknown as { filters: Record<string, unknown> }).filters);
}
export function knownTests(): string[] {
  return Object.keys((templateEnvironment() as unknown as { tests: Record<string, unknown> }).tests);
}

/** nunjucks' parser (public in the package, untyped in @types/nunjucks); throws on syntax errors. */
export function parseTemplate(text: string): NjNode {
  const parser = (nunjucks as unknown as { parser: { parse(src: string, ext: unknown[], opts: object): unknown } })
    .parser;
  return parser.parse(text, [], {}) as NjNode;
}
