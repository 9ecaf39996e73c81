/**
 * JSON Schema validation of a parsed YAML document with friendly problems: ajv's errors become ConfigProblems
 * that name file:line:col (from the document's positions), say what is wrong in words and suggest a fix.
 *
 * Schemas may carry an `x-hint` string on any subschema: it becomes the hint of a problem found there.
 */
import { createRequire } from 'node:module';
import type { Ajv, AnySchemaObject, ErrorObject, Options, ValidateFunction } from 'ajv';
import type { ConfigProblem } from '../core/config-error.js';
import { LockedVault } from '../core/locked-vault.js';
import type { YamlDocument, YamlPath } from './yaml.js';
import { didYouMean } from '../core/suggest.js';

/**
 * An ajv instance configured as the translation below needs (all errors, with their schemas). ajv is loaded on
 * first use, not at import: the CLI validates with validators precompiled at build time (schema-validator.ts).
 */
export function createAjv(extra: Options = {}): Ajv {
  const { Ajv: AjvClass } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
  const ajv = new AjvClass({
    allErrors: true,
    verbose: true,
    strict: true,
    strictTypes: false,
    strictRequired: false,
    allowUnionTypes: true,
    ...extra,
  });
  ajv.addVocabulary(['x-hint']);
  return ajv;
}

/** Validate `doc.value` with a compiled schema; [] when it is valid. */
export function validateDocument(validate: ValidateFunction, doc: YamlDocument): ConfigProblem[] {
  if (validate(doc.value)) return [];
  // An inline !vault value no password opened cannot be checked; it is an error where it is used, as in Ansible.
  const errors = (validate.errors ?? []).filter((e) => !insideLockedVault(e.instancePath, doc.value));
  return problemsFromSchemaErrors(errors, doc);
}

/** Whether the value at an ajv instancePath is, or is inside, a LockedVault. */
function insideLockedVault(pointer: string, root: unknown): boolean {
  let node = root;
  for (const key of pathOfPointer(pointer, root)) {
    if (node instanceof LockedVault) return true;
    node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined;
  }
  return node instanceof LockedVault;
}

/** The YAML path an ajv instancePath (JSON pointer) points to; array indices become numbers. */
export function pathOfPointer(pointer: string, root: unknown): (string | number)[] {
  const path: (string | number)[] = [];
  let node = root;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const key = Array.isArray(node) ? Number(seg) : seg;
    path.push(key);
    node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined;
  }
  return path;
}

const typeWords: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  null: 'empty',
};

/** 'a mapping', 'a list', 'a string', … for a parsed value. */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return 'a string';
}

function typesInWords(types: unknown): string {
  const list = (Array.isArray(types) ? types : [types]).map((t) => typeWords[String(t)] ?? String(t));
  return list.length > 1 ? `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}` : (list[0] ?? '');
}

function label(path: YamlPath): string {
  const last = path[path.length - 1];
  return last === undefined ? 'the document' : typeof last === 'number' ? `item ${last + 1}` : `\`${last}\``;
}

/** A value for a message, cut short so a long (or secret-bearing) value is never printed whole. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? text.slice(0, 37) + '...' : text;
}

function hintOf(schema: AnySchemaObject | undefined): string | undefined {
  const hint = schema?.['x-hint'];
  return typeof hint === 'string' ? hint : undefined;
}

function problemOf(err: ErrorObject, doc: YamlDocument): ConfigProblem {
  const path = pathOfPointer(err.instancePath, doc.value);
  const hint = hintOf(err.parentSchema);
  switch (err.keyword) {
    case 'additionalProperties': {
      const key = String(err.params.additionalProperty);
      const known = Object.keys((err.parentSchema?.properties as Record<string, unknown> | undefined) ?? {});
      const inWhere = path.length > 0 ? ` under ${label(path)}` : ' at the top level';
      return {
        position: doc.positionOf([...path, key], 'key'),
        message: `unknown key \`${key}\`${inWhere}`,
        hint: didYouMean(key, known) ?? hint ?? (known.length > 0 ? `Allowed keys: ${known.join(', ')}` : undefined),
      };
    }
    case 'propertyNames': {
      const key = String(err.params.propertyName);
      return {
        position: doc.positionOf([...path, key], 'key'),
        message: `\`${key}\` cannot be a key ${path.length > 0 ? `under ${label(path)}` : 'at the top level'}`,
        hint: hintOf(err.schema as AnySchemaObject | undefined) ?? hint,
      };
    }
    case 'required':
      return {
        position: doc.positionOf(path),
        message: `${label(path)} is missing the key \`${String(err.params.missingProperty)}\``,
        hint,
      };
    case 'type':
      return {
        position: doc.positionOf(path),
        message: `${label(path)} must be ${typesInWords(err.params.type)}, not ${kindOf(err.data)}`,
        hint,
      };
    case 'enum': {
      const allowed = (err.params.allowedValues as unknown[]).map((v) => JSON.stringify(v));
      const guess =
        typeof err.data === 'string'
          ? didYouMean(err.data, (err.params.allowedValues as unknown[]).map(String))
          : undefined;
      return {
        position: doc.positionOf(path),
        message: `${label(path)} must be one of ${allowed.join(', ')}`,
        hint: guess ?? hint,
      };
    }
    case 'minLength':
      return {
        position: doc.positionOf(path),
        message:
          err.params.limit === 1
            ? `${label(path)} must not be empty`
            : `${label(path)} must be at least ${err.params.limit} characters long`,
        hint,
      };
    case 'minimum':
    case 'maximum':
      return {
        position: doc.positionOf(path),
        message: `${label(path)} must be at ${err.keyword === 'minimum' ? 'least' : 'most'} ${err.params.limit}, not ${shown(err.data)}`,
        hint,
      };
    case 'pattern':
      return {
        position: doc.positionOf(path),
        message: `${label(path)} is ${shown(err.data)}, which is not in the expected form`,
        hint,
      };
    default:
      return { position: doc.positionOf(path), message: `${label(path)} ${err.message ?? 'is not valid'}`, hint };
  }
}

/** True when an error inside an alternative says only "wrong type here", i.e. the branch was not meant. */
function isTypeMismatchAt(e: ErrorObject, alt: ErrorObject): boolean {
  return e.keyword === 'type' && e.instancePath === alt.instancePath;
}

/**
 * For anyOf/oneOf failures: when some branch has the right type, that branch's errors (the one with fewest,
 * the one the author most likely meant); when none has, one "must be X or Y" error.
 */
function collapseAlternatives(errors: readonly ErrorObject[]): ErrorObject[] {
  const alternatives = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  if (alternatives.length === 0) return [...errors];
  const dropped = new Set<ErrorObject>();
  const added: ErrorObject[] = [];
  for (const alt of alternatives) {
    if (dropped.has(alt)) continue;
    dropped.add(alt);
    const inside = errors.filter((e) => e !== alt && e.schemaPath.startsWith(alt.schemaPath + '/'));
    inside.forEach((e) => dropped.add(e));
    const byBranch = new Map<string, ErrorObject[]>();
    for (const e of inside) {
      const branch = e.schemaPath.slice(alt.schemaPath.length + 1).split('/')[0] ?? '';
      byBranch.set(branch, [...(byBranch.get(branch) ?? []), e]);
    }
    const meant = [...byBranch.values()]
      .filter((es) => !es.some((e) => isTypeMismatchAt(e, alt)))
      .sort((a, b) => a.length - b.length)[0];
    if (meant) {
      added.push(...meant);
      continue;
    }
    const types = inside
      .filter((e) => isTypeMismatchAt(e, alt))
      .flatMap((e) => (Array.isArray(e.params.type) ? e.params.type : [e.params.type]));
    added.push(types.length > 0 ? { ...alt, keyword: 'type', params: { type: [...new Set(types)] } } : alt);
  }
  return [...errors.filter((e) => !dropped.has(e)), ...added];
}

/** Translate ajv errors (from an instance made by createAjv) into problems, one per distinct place and kind. */
export function problemsFromSchemaErrors(errors: readonly ErrorObject[], doc: YamlDocument): ConfigProblem[] {
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  // A key refused by propertyNames: what is wrong inside it follows from that, so say only that.
  const refused = errors
    .filter((e) => e.keyword === 'propertyNames')
    .map((e) => `${e.instancePath}/${String(e.params.propertyName).replace(/~/g, '~0').replace(/\//g, '~1')}`);
  for (const err of collapseAlternatives(errors)) {
    if (refused.some((r) => err.instancePath === r || err.instancePath.startsWith(r + '/'))) continue;
    // Errors inside `propertyNames` repeat what the propertyNames error itself says.
    if (err.propertyName !== undefined && err.keyword !== 'propertyNames') continue;
    // "must match then schema": the errors of the `then` branch say what is wrong.
    if (err.keyword === 'if') continue;
    const problem = problemOf(err, doc);
    const key = `${problem.position?.line}:${problem.position?.column}:${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems.sort(
    (a, b) =>
      (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.column ?? 0) - (b.position?.column ?? 0),
  );
}
