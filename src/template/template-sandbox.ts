/**
 * nunjucks is not a sandbox: a compiled template reads JavaScript properties, and the `.constructor` of any
 * function is `Function`, which runs code on the controller (`range.constructor("return process")()`). rollgate's
 * templates read data only. Playbooks, inventories and `-e` are trusted input, run with the operator's keys;
 * this is defence in depth, so that no template — wherever it came from — reaches the controller's runtime:
 * - no member of a function is readable, nor the members that lead to prototypes and constructors;
 * - bare names resolve only to the template's own variables and rollgate's globals, never to inherited
 *   properties (`constructor`, `valueOf`, `toString` of a plain object);
 * - filters and tests are looked up among their own names only;
 * - the code-running constructors (`Function` and its async / generator kinds) cannot be called.
 */

/** Members no template may read: each leads to prototypes, constructors or a function's call machinery. */
export const blockedMembers: ReadonlySet<string> = new Set([
  'constructor',
  'prototype',
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'call',
  'apply',
  'bind',
  'caller',
  'callee',
  'arguments',
]);

/** A template tried to reach past data; the task fails with this message. */
export class TemplateSandboxError extends Error {
  override readonly name = 'TemplateSandboxError';
}

const codeRunners: ReadonlySet<unknown> = new Set([
  Function,
  Object.getPrototypeOf(async function () {}).constructor,
  Object.getPrototypeOf(function* () {}).constructor,
  Object.getPrototypeOf(async function* () {}).constructor,
  eval,
]);

const jinjaConstants: Record<string, unknown> = { True: true, False: false, None: null };

type Fn = (...args: unknown[]) => unknown;
interface Runtime {
  memberLookup: Fn;
  callWrap: Fn;
  contextOrFrameLookup: Fn;
}
interface Lookups {
  filters: Record<string, unknown>;
  tests: Record<string, unknown>;
}

function refuse(what: string): never {
  throw new TemplateSandboxError(
    `templates cannot read ${what}: rollgate templates reach data, not JavaScript objects`,
  );
}

/** Wrap nunjucks' runtime and Environment once (process-wide, like the Jinja compatibility patches). */
export function installSandbox(runtime: Runtime, environment: { prototype: { getFilter: Fn; getTest: Fn } }): void {
  const memberLookup = runtime.memberLookup;
  runtime.memberLookup = function guardedMemberLookup(this: unknown, ...args: unknown[]) {
    const [obj, key] = args;
    if (obj === undefined || obj === null) return undefined;
    const name = String(key);
    if (typeof obj === 'function') refuse(`\`.${name}\` of a function`);
    if (blockedMembers.has(name)) refuse(`\`${name}\``);
    return memberLookup.apply(this, args);
  };

  runtime.contextOrFrameLookup = function ownLookup(context: unknown, frame: unknown, name: unknown) {
    const fromFrame = (frame as { lookup(n: unknown): unknown }).lookup(name); // frames hold null-prototype objects
    if (fromFrame !== undefined) return fromFrame;
    const { ctx, env } = context as { ctx: Record<string, unknown>; env: { globals: Record<string, unknown> } };
    const key = String(name);
    if (Object.hasOwn(ctx, key)) return ctx[key];
    if (Object.hasOwn(env.globals, key)) return env.globals[key];
    return Object.hasOwn(jinjaConstants, key) ? jinjaConstants[key] : undefined; // as installJinjaCompat's lookup
  };

  const callWrap = runtime.callWrap;
  runtime.callWrap = function guardedCallWrap(this: unknown, ...args: unknown[]) {
    if (codeRunners.has(args[0])) refuse('a function that runs code');
    return callWrap.apply(this, args);
  };

  const proto = environment.prototype;
  for (const [method, table] of [
    ['getFilter', 'filters'],
    ['getTest', 'tests'],
  ] as const) {
    const original = proto[method];
    proto[method] = function ownOnly(this: Lookups, name: unknown) {
      if (!Object.hasOwn(this[table], String(name)))
        throw new Error(`${table === 'filters' ? 'filter' : 'test'} not found: ${String(name)}`);
      return original.call(this, name);
    };
  }
}
