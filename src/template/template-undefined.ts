/**
 * Undefined values as Ansible has them: reading a variable no layer defines gives an Undefined value, and only
 * *using* it is an error (printing it, testing its truth, comparing, iterating, calling, doing arithmetic, or
 * passing it to a filter or test that needs its value). So `x.y | default(z)` works while `z` is undefined as long
 * as `x.y` is defined, `a | default(b) | default('c')` gives 'c', and `x is defined and x > 1` is safe.
 * `default` / `d`, `ternary` and the tests `defined` / `undefined` / `none` take it without using it.
 */

/** The value of a variable no layer defines; `name` is the variable the template read. */
export class Undefined {
  constructor(readonly name: string) {}
  [Symbol.toPrimitive](): never {
    return used(this);
  }
  toString(): never {
    return used(this);
  }
  toJSON(): never {
    return used(this);
  }
  // eslint-disable-next-line require-yield -- iterating an undefined value is a use: used() throws before any yield
  *[Symbol.iterator](): Iterator<never> {
    used(this);
  }
}

/** The variable whose Undefined value was used during the current render (nunjucks flattens thrown errors). */
let usedName: string | undefined;

/** Throw for a used Undefined; the renderer turns it into "undefined variable `name`" with the task's position. */
export function used(u: Undefined): never {
  usedName = u.name;
  throw new Error(`undefined variable \`${u.name}\``);
}

/** The name of the Undefined used since the last call, and forget it. */
export function takeUsedUndefined(): string | undefined {
  const name = usedName;
  usedName = undefined;
  return name;
}

/** A value about to be used: an Undefined one fails. */
export function use<T>(value: T): T {
  if (value instanceof Undefined) used(value);
  return value;
}

/** Fail when an Undefined sits anywhere in a value leaving a template (a list or mapping holding one). */
export function useDeep(value: unknown, seen = new Set<object>()): void {
  if (value instanceof Undefined) used(value);
  // Shared objects (YAML aliases) are walked once: an alias bomb costs its size on disk, not its expansion.
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  for (const v of Array.isArray(value) ? value : Object.values(value)) useDeep(v, seen);
}

const lazyFilters = new Set(['default', 'd', 'ternary']);
// `x is none` compiles to the test `null` (Jinja's none literal), so both names are lazy.
const lazyTests = new Set(['defined', 'undefined', 'none', 'null']);

type Fn = (...args: unknown[]) => unknown;

function useArgs(args: unknown[]): void {
  for (const a of args) {
    use(a);
    // Keyword arguments arrive as one object marked __keywords.
    if (typeof a === 'object' && a !== null && (a as Record<string, unknown>).__keywords === true)
      Object.values(a).forEach(use);
  }
}

/** Jinja's default(value, default_value='', boolean=False), with Undefined as "not defined". */
export function defaultFilter(value: unknown, fallback: unknown = '', boolean: unknown = false): unknown {
  if (value === undefined || value instanceof Undefined) return fallback;
  return boolean === true && !value ? fallback : value;
}

/** Make every filter and test but the lazy ones fail on an Undefined input or argument. */
export function strictFunctions(table: Record<string, Fn>, kind: 'filters' | 'tests'): void {
  const lazy = kind === 'filters' ? lazyFilters : lazyTests;
  for (const [name, fn] of Object.entries(table)) {
    if (lazy.has(name)) continue;
    table[name] = function strict(this: unknown, ...args: unknown[]) {
      useArgs(args);
      return fn.apply(this, args);
    };
  }
}

export const undefinedTests: Record<string, Fn> = {
  defined: (v) => !(v === undefined || v instanceof Undefined),
  undefined: (v) => v === undefined || v instanceof Undefined,
  none: (v) => v === null,
  null: (v) => v === null,
};

interface CompilerThis {
  _emit(code: string): void;
  compile(node: unknown, frame: unknown): void;
}
type Proto = Record<string, (this: CompilerThis, node: Record<string, unknown>, frame: unknown) => void>;

/** Wrap an emitted sub-expression in runtime.rgUse(...), so the value is checked where it is used. */
function emitUsed(c: CompilerThis, node: unknown, frame: unknown): void {
  c._emit('runtime.rgUse(');
  c.compile(node, frame);
  c._emit(')');
}

/** Patch nunjucks' compiler and runtime once: truth tests, comparisons, loops, `in` and calls use their values. */
export function installUndefinedSemantics(runtime: Record<string, Fn>, compilerProto: Proto): void {
  runtime.rgUse = use;
  const memberLookup = runtime.memberLookup!;
  // Reading a member of an Undefined stays Undefined (`x.y | default(1)` for an undefined x), named by its root.
  runtime.memberLookup = function (this: unknown, ...args: unknown[]) {
    return args[0] instanceof Undefined ? args[0] : memberLookup.apply(this, args);
  };
  const fromIterator = runtime.fromIterator!;
  runtime.fromIterator = (arr) => fromIterator(use(arr));
  const inOperator = runtime.inOperator!;
  runtime.inOperator = (key, val) => inOperator(use(key), use(val));
  const callWrap = runtime.callWrap!;
  runtime.callWrap = function (this: unknown, obj: unknown, name: unknown, context: unknown, args: unknown) {
    use(obj);
    useArgs(args as unknown[]);
    return callWrap.call(this, obj, name, context, args);
  };
  const suppressValue = runtime.suppressValue!;
  runtime.suppressValue = function (this: unknown, ...args: unknown[]) {
    return suppressValue.apply(this, [use(args[0]), ...args.slice(1)]);
  };

  wrapIf(compilerProto);
  compilerProto.compileInlineIf = function (node, frame) {
    this._emit('(');
    emitUsed(this, node.cond, frame);
    this._emit('?');
    this.compile(node.body, frame);
    this._emit(':');
    if (node.else_ !== null) this.compile(node.else_, frame);
    else this._emit('""');
    this._emit(')');
  };
  for (const [method, op] of [
    ['compileOr', ' || '],
    ['compileAnd', ' && '],
  ] as const) {
    compilerProto[method] = function (node, frame) {
      emitUsed(this, node.left, frame);
      this._emit(op);
      emitUsed(this, node.right, frame);
    };
  }
  compilerProto.compileNot = function (node, frame) {
    this._emit('!');
    emitUsed(this, node.target, frame);
  };
  compilerProto.compileCompare = function (node, frame) {
    emitUsed(this, node.expr, frame);
    for (const op of node.ops as Array<{ type: string; expr: unknown }>) {
      if (!['==', '===', '!=', '!==', '<', '>', '<=', '>='].includes(op.type))
        throw new Error(`bad comparison ${op.type}`);
      this._emit(` ${op.type} `);
      emitUsed(this, op.expr, frame);
    }
  };
}

/** `{% if %}`: its condition is used; the rest compiles as nunjucks does (the condition is marked, then wrapped). */
function wrapIf(proto: Proto): void {
  const compileIf = proto.compileIf!;
  const compileExpression = proto._compileExpression!;
  proto.compileIf = function (node, frame, ...rest: unknown[]) {
    (this as CompilerThis & { rgCondition?: unknown }).rgCondition = node.cond;
    return (compileIf as (...a: unknown[]) => void).call(this, node, frame, ...rest);
  };
  proto._compileExpression = function (node, frame) {
    const self = this as CompilerThis & { rgCondition?: unknown };
    if (node !== self.rgCondition) return compileExpression.call(this, node, frame);
    self.rgCondition = undefined;
    this._emit('runtime.rgUse(');
    compileExpression.call(this, node, frame);
    this._emit(')');
  };
}
