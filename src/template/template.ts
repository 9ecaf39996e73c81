/**
 * Templating: `{{ }}` in strings and bare expressions in `when:`. Templating returns data; modules quote it
 * with `sh` when it reaches a shell, so a value holding `$(...)`, quotes or newlines stays those characters.
 *
 * A string that is exactly one `{{ expr }}` yields the expression's own value (a list stays a list);
 * anything else yields a string. A variable no layer defines is Undefined, as in Ansible: using it (printing,
 * testing its truth, comparing, passing it to a filter that needs it) fails the task with "undefined variable"
 * and the task's file:line:col; `| default(...)` and `is defined` take it without using it.
 */
import nunjucks from 'nunjucks';
import type { SourcePosition } from '../core/config-error.js';
import { LockedVault } from '../core/locked-vault.js';
import { parseTemplate, templateEnvironment, templateGlobals, takeCaptured } from './template-env.js';
import { templateNames, type TemplateNames } from './template-names.js';
import { isTruthy } from './template-values.js';
import { takeUsedUndefined, Undefined } from './template-undefined.js';
import { VarScope, VarScopeError, type VarLayer } from './vars.js';

/** A template that could not be evaluated for one host: the task fails with this message. */
export class TemplateFailure extends Error {
  override readonly name = 'TemplateFailure';
  constructor(
    readonly reason: string,
    readonly position: SourcePosition | undefined,
  ) {
    super(position ? `${position.file}:${position.line}:${position.column}: ${reason}` : reason);
  }
}

interface Compiled {
  template: nunjucks.Template;
  names: TemplateNames;
  /** Evaluates to the value itself (captured), not to printed text. */
  native: boolean;
}

const cache = new Map<string, Compiled>();
const CACHE_LIMIT = 5000;

const hasTemplate = (s: string): boolean => s.includes('{{') || s.includes('{%') || s.includes('{#');
const singleExpression = /^\s*\{\{(?<inner>(?:(?!\{\{|\}\}|\{%|%\}).)*)\}\}\s*$/s;

/** Error text from nunjucks without its "(unknown path) [Line 1, Column 3]" prefix. */
function cleanMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text
    .replace(/^\(unknown path\)(?: \[Line \d+, Column \d+\])?\s*/, '')
    .replace(/^\w*Error: /, '')
    .trim();
}

function compile(source: string, native: boolean): Compiled {
  const key = (native ? 'n' : 's') + source;
  const hit = cache.get(key);
  if (hit) return hit;
  const env = templateEnvironment();
  const text = native ? `{{ __rg_capture((${source})) }}` : source;
  const root = parseTemplate(text);
  const names = templateNames(root);
  for (const g of templateGlobals) {
    names.required.delete(g);
    names.optional.delete(g);
  }
  const compiled: Compiled = { template: new nunjucks.Template(text, env, undefined, true), names, native };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, compiled);
  return compiled;
}

/** The variables the template reads, resolved from the scope; one no layer defines is Undefined (an error only once used). */
function contextFor(c: Compiled, scope: VarScope, position: SourcePosition | undefined): Record<string, unknown> {
  const ctx: Record<string, unknown> = {};
  for (const name of [...c.names.required, ...c.names.optional]) {
    if (name === 'vars') ctx.vars = scope.view();
    else ctx[name] = scope.has(name) ? resolve(scope, name, position) : new Undefined(name);
  }
  return ctx;
}

/** A variable's value; a failure inside its own template names both places. */
function resolve(scope: VarScope, name: string, position: SourcePosition | undefined): unknown {
  try {
    return scope.lookup(name);
  } catch (err) {
    if (err instanceof TemplateFailure && err.position && position && err.position !== position) {
      const where = `${err.position.file}:${err.position.line}:${err.position.column}`;
      throw new TemplateFailure(`${err.reason} (in variable \`${name}\` defined at ${where})`, position);
    }
    if (err instanceof VarScopeError) throw new TemplateFailure(err.message, position);
    throw err;
  }
}

function run(c: Compiled, scope: VarScope, position: SourcePosition | undefined, shown: string): unknown {
  const ctx = contextFor(c, scope, position);
  takeUsedUndefined();
  try {
    const out = c.template.render(ctx);
    if (!c.native) return out;
    const { value } = takeCaptured();
    if (value === undefined) throw new TemplateFailure(`\`${shown}\` is undefined`, position);
    return value;
  } catch (err) {
    takeCaptured();
    const undefinedName = takeUsedUndefined();
    if (undefinedName !== undefined) throw new TemplateFailure(`undefined variable \`${undefinedName}\``, position);
    if (err instanceof TemplateFailure) throw err;
    if (err instanceof VarScopeError) throw new TemplateFailure(err.message, position);
    const msg = cleanMessage(err);
    const reason = /attempted to output null or undefined/.test(msg) ? 'a value in it is undefined or None' : msg;
    throw new TemplateFailure(`cannot template \`${shown}\`: ${reason}`, position);
  }
}

/** Why a locked !vault value cannot be used, with the options that open it. */
function lockedReason(value: LockedVault): string {
  const { message, hint } = value.problem;
  return hint ? `${message}: ${hint}` : message;
}

/** Template one string. */
export function renderString(source: string, scope: VarScope, position?: SourcePosition): unknown {
  if (!hasTemplate(source)) return source;
  const single = singleExpression.exec(source);
  try {
    return single
      ? run(compile(single.groups!.inner!, true), scope, position, source)
      : run(compile(source, false), scope, position, source);
  } catch (err) {
    if (err instanceof TemplateFailure) throw err;
    throw new TemplateFailure(`bad template \`${source}\`: ${cleanMessage(err)}`, position);
  }
}

/** Template every string inside a value (lists and mappings deeply); other values are returned as they are. */
export function renderValue(value: unknown, scope: VarScope, position?: SourcePosition): unknown {
  // An inline !vault value no password opened: using it is the error, at the value (lookup names the variable).
  if (value instanceof LockedVault) throw new TemplateFailure(lockedReason(value), value.problem.position);
  if (typeof value === 'string') return renderString(value, scope, position);
  if (Array.isArray(value)) return value.map((v) => renderValue(v, scope, position));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, scope, position)]));
  }
  return value;
}

/** Evaluate a bare expression (`when:` syntax) to its value. */
export function evaluateExpression(source: string, scope: VarScope, position?: SourcePosition): unknown {
  try {
    return run(compile(source, true), scope, position, source);
  } catch (err) {
    if (err instanceof TemplateFailure) throw err;
    throw new TemplateFailure(`bad expression \`${source}\`: ${cleanMessage(err)}`, position);
  }
}

/** A condition holds when its expression is truthy in Python's sense (an empty list is false). */
export function evaluateCondition(cond: { source: string; position: SourcePosition }, scope: VarScope): boolean {
  return isTruthy(evaluateExpression(cond.source, scope, cond.position));
}

/** A scope whose operator-written layers are templated with this engine. */
export function createScope(layers: VarLayer[]): VarScope {
  return new VarScope(layers, (value, scope, position) => renderValue(value, scope, position));
}
