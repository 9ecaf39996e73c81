/**
 * Shared helpers of the playbook loader: collecting problems with positions, checking a mapping's keys against
 * a keyword table, validating keyword values, normalising conditions and string lists, and checking every
 * template string found in a value.
 */
import type { ConfigProblem, SourcePosition } from '../core/config-error.js';
import type { Condition } from './playbook-types.js';
import type { YamlDocument, YamlPath } from './yaml.js';
import { validateWithSchema } from './option-errors.js';
import { checkExpression, checkTemplate } from '../template/template-check.js';
import { didYouMean } from '../core/suggest.js';
import { unsupportedKeywords } from './playbook-keywords.js';

export interface LoadContext {
  doc: YamlDocument;
  problems: ConfigProblem[];
}

export function report(
  ctx: LoadContext,
  path: YamlPath,
  message: string,
  hint?: string,
  of: 'key' | 'value' = 'value',
): void {
  ctx.problems.push({ position: ctx.doc.positionOf(path, of), message, ...(hint ? { hint } : {}) });
}

export function at(ctx: LoadContext, path: YamlPath, of: 'key' | 'value' = 'value'): SourcePosition {
  return ctx.doc.positionOf(path, of);
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A key no table knows: an Ansible keyword we do not run, or a typo. */
export function reportUnknownKey(
  ctx: LoadContext,
  path: YamlPath,
  key: string,
  where: string,
  candidates: string[],
): void {
  const unsupported = unsupportedKeywords[key];
  if (unsupported) report(ctx, [...path, key], `\`${key}\` is not supported in ${where}`, unsupported, 'key');
  else
    report(
      ctx,
      [...path, key],
      `unknown key \`${key}\` in ${where}`,
      didYouMean(key, candidates) ?? `use one of ${candidates.map((c) => `\`${c}\``).join(', ')}`,
      'key',
    );
}

/** Validate the value of each known keyword against its schema fragment. */
export function checkKeywordValues(
  ctx: LoadContext,
  node: Record<string, unknown>,
  path: YamlPath,
  table: Record<string, object>,
): void {
  for (const [key, value] of Object.entries(node)) {
    const fragment = table[key];
    if (!fragment) continue;
    ctx.problems.push(
      ...validateWithSchema(fragment, { doc: ctx.doc, path: [...path, key], value, what: `\`${key}\``, field: key }),
    );
  }
}

/** `when:` and friends: a string, a boolean or a list of them, each compiled now. */
export function conditions(ctx: LoadContext, value: unknown, path: YamlPath, what: string): Condition[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value.map((v, i) => ({ v, p: [...path, i] })) : [{ v: value, p: path }];
  const out: Condition[] = [];
  for (const { v, p } of items) {
    if (typeof v === 'boolean') {
      out.push({ source: v ? 'True' : 'False', position: at(ctx, p) });
      continue;
    }
    if (typeof v !== 'string') continue; // the schema check has reported it
    const problem = checkExpression(v, what);
    if (problem) report(ctx, p, problem.message, problem.hint);
    else out.push({ source: v, position: at(ctx, p) });
  }
  return out;
}

export function stringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export function optionalBoolean(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

/** Check the syntax of every `{{ }}` string inside a value (vars, module options, names). */
export function checkTemplates(ctx: LoadContext, value: unknown, path: YamlPath): void {
  if (typeof value === 'string') {
    const problem = checkTemplate(value);
    if (problem) report(ctx, path, problem.message, problem.hint);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkTemplates(ctx, v, [...path, i]));
  } else if (isMapping(value)) {
    for (const [k, v] of Object.entries(value)) checkTemplates(ctx, v, [...path, k]);
  }
}

/** JSON pointers of every string holding a template inside a value (their types are known only at run time). */
export function templatedPointers(value: unknown, pointer = ''): string[] {
  if (typeof value === 'string') return /\{\{/.test(value) ? [pointer] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => templatedPointers(v, `${pointer}/${i}`));
  if (isMapping(value))
    return Object.entries(value).flatMap(([k, v]) =>
      templatedPointers(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`),
    );
  return [];
}
