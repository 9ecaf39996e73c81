/**
 * ajv errors for one part of a playbook (a module's options, a keyword's value) turned into ConfigProblems that
 * name the module and option (schema-errors.ts translates whole documents): file:line:col of the offending key
 * or value, what is wrong in words ("module `kernel_args` has no option `add`; it takes `present` / `absent`"),
 * and what to write instead (did-you-mean, the allowed values, the missing option).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ConfigProblem } from '../core/config-error.js';
import type { YamlDocument, YamlPath } from './yaml.js';
import { didYouMean, listChoices } from '../core/suggest.js';

/** What is being validated: a module's options, a play keyword's value ... */
export interface SchemaSubject {
  doc: YamlDocument;
  /** Where the validated value sits in the document. */
  path: YamlPath;
  value: unknown;
  /** How messages name it, e.g. "module `kernel_args`" or "`serial`". */
  what: string;
  /** Prefix for names of nested values: `serial` gives `serial[2]`; unset gives `ids[0]` (option paths). */
  field?: string;
}

const ajv = new Ajv({ allErrors: true, verbose: true, strict: false });
const compiled = new WeakMap<object, ValidateFunction>();

/**
 * Validate `subject.value` against `schema`; problems for every error found, [] when valid. `ignore` drops
 * errors that do not apply (e.g. a type error on a value that is a template, known only at run time).
 */
export function validateWithSchema(
  schema: object,
  subject: SchemaSubject,
  ignore?: (e: ErrorObject) => boolean,
): ConfigProblem[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(subject.value)) return [];
  const errors = (validate.errors ?? []).filter((e) => !ignore?.(e));
  return schemaProblems(errors, subject);
}

const typeWords: Record<string, string> = {
  array: 'a list',
  object: 'a mapping',
  string: 'a string',
  boolean: 'true or false',
  integer: 'a whole number',
  number: 'a number',
  null: 'empty',
};

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string \`${v}\``;
  return `\`${String(v)}\``;
}

function segments(instancePath: string): string[] {
  return instancePath === ''
    ? []
    : instancePath
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `ids[0]`, `present`, or the subject itself for the top level. */
function nameOf(subject: SchemaSubject, segs: string[]): string {
  if (segs.length === 0) return subject.what;
  const prefix = subject.field ?? '';
  return (
    '`' + prefix + segs.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 && !prefix ? s : `.${s}`)).join('') + '`'
  );
}

function pathOf(subject: SchemaSubject, segs: string[]): YamlPath {
  return [...subject.path, ...segs.map((s) => (/^\d+$/.test(s) ? Number(s) : s))];
}

/** YAML 1.1 reads yes/no/on/off/y/n as booleans and 0755 as a number: say so when a string was meant. */
function yamlTypeTrap(expected: unknown, data: unknown): string | undefined {
  if (!String(expected).split(',').includes('string')) return undefined;
  if (typeof data === 'boolean') return 'quote it if you mean the text: YAML reads yes/no/on/off/y/n as true/false';
  if (typeof data === 'number') return 'quote it if you mean the text';
  return undefined;
}

function typeList(types: unknown): string {
  return String(types)
    .split(',')
    .map((t) => typeWords[t] ?? t)
    .join(' or ');
}

/** Every alternative of an anyOf/oneOf is `{required: [x]}`: the subject needs one of those keys. */
function requiredAlternatives(schema: unknown): string[] | null {
  if (!Array.isArray(schema)) return null;
  const keys = schema.map((s: { required?: string[] }) =>
    Object.keys(s).length === 1 && s.required?.length === 1 ? s.required[0] : null,
  );
  return keys.every((k) => typeof k === 'string') ? (keys as string[]) : null;
}

function one(subject: SchemaSubject, e: ErrorObject, branchErrors: ErrorObject[]): ConfigProblem {
  const segs = segments(e.instancePath);
  if (e.propertyName !== undefined) {
    const parentSchema = (e.parentSchema ?? {}) as { description?: string };
    return {
      position: subject.doc.positionOf([...pathOf(subject, segs), e.propertyName], 'key'),
      message: `\`${e.propertyName}\` is not a valid name in ${nameOf(subject, segs)}`,
      hint: parentSchema.description ? `use ${parentSchema.description}` : undefined,
    };
  }
  const name = nameOf(subject, segs);
  const at = (p: YamlPath, of: 'key' | 'value' = 'value') => subject.doc.positionOf(p, of);
  const params = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as {
    properties?: Record<string, { description?: string }>;
    description?: string;
  };
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys(parent.properties ?? {});
      return {
        position: at([...pathOf(subject, segs), key], 'key'),
        message: `${name} has no option \`${key}\`; it takes ${listChoices(known)}`,
        hint: didYouMean(key, known),
      };
    }
    case 'required': {
      const key = String(params.missingProperty);
      const desc = parent.properties?.[key]?.description;
      return {
        position: at(pathOf(subject, segs)),
        message: `${name} needs option \`${key}\``,
        hint: `add \`${key}:\`${desc ? ` — ${desc}` : ''}`,
      };
    }
    case 'type':
      return {
        position: at(pathOf(subject, segs)),
        message: `${name} must be ${typeList(params.type)}, not ${describeValue(e.data)}`,
        hint: yamlTypeTrap(params.type, e.data),
      };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      return {
        position: at(pathOf(subject, segs)),
        message: `${name} must be one of ${listChoices(allowed)}, not ${describeValue(e.data)}`,
        hint: typeof e.data === 'string' ? didYouMean(e.data, allowed) : undefined,
      };
    }
    case 'pattern':
      return parent.description
        ? {
            position: at(pathOf(subject, segs)),
            message: `${name} must be ${parent.description}, not ${describeValue(e.data)}`,
          }
        : {
            position: at(pathOf(subject, segs)),
            message: `${name} ${describeValue(e.data)} does not match \`${String(params.pattern)}\``,
          };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        position: at(pathOf(subject, segs)),
        message: `${name} must be ${String(params.comparison)} ${String(params.limit)}, not ${describeValue(e.data)}`,
      };
    case 'minItems':
      return {
        position: at(pathOf(subject, segs)),
        message: `${name} needs at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`,
      };
    case 'minLength':
      return { position: at(pathOf(subject, segs)), message: `${name} must not be empty` };
    case 'anyOf':
    case 'oneOf': {
      const keys = requiredAlternatives(e.schema);
      if (keys && params.passingSchemas)
        return {
          position: at(pathOf(subject, segs)),
          message: `${name} takes only one of ${listChoices(keys)}`,
          hint: 'remove all but one',
        };
      if (keys)
        return {
          position: at(pathOf(subject, segs)),
          message: `${name} needs ${keys.map((k) => `\`${k}\``).join(' or ')}`,
          hint: `add one of ${listChoices(keys)}`,
        };
      // A branch that got past the type check says best what is wrong: the errors of a branch whose type the value
      // does not have (a word's branch for a mapping) are no clue, even those past its type (its enum).
      const branchOf = (b: ErrorObject) => b.schemaPath.slice(e.schemaPath.length + 1).split('/')[0];
      const unmeant = new Set(
        branchErrors
          .filter((b) => b.keyword === 'type' && b.schemaPath === `${e.schemaPath}/${branchOf(b)}/type`)
          .map(branchOf),
      );
      const deeper = branchErrors.filter(
        (b) => b.keyword !== 'type' && b.keyword !== 'oneOf' && b.keyword !== 'anyOf' && !unmeant.has(branchOf(b)),
      );
      // Fixed words or a number (e.g. a pause: `approve` or seconds): the alternative's own description says it all.
      const described =
        (e.schema as { description?: string } | undefined)?.description ??
        (e.parentSchema as { description?: string } | undefined)?.description;
      const fixedWord = (b: ErrorObject) =>
        (b.keyword === 'enum' || b.keyword === 'const') && b.instancePath === e.instancePath;
      if (described && deeper.length > 0 && deeper.every(fixedWord)) {
        return {
          position: at(pathOf(subject, segs)),
          message: `${name} must be ${described}, not ${describeValue(e.data)}`,
        };
      }
      if (deeper.length > 0) return one(subject, deeper[0]!, []);
      const types = [
        ...new Set(
          branchErrors.filter((b) => b.keyword === 'type').map((b) => typeList((b.params as { type: string }).type)),
        ),
      ];
      return {
        position: at(pathOf(subject, segs)),
        message: `${name} must be ${types.join(' or ') || 'something else'}, not ${describeValue(e.data)}`,
      };
    }
    default:
      return { position: at(pathOf(subject, segs)), message: `${name} ${e.message ?? 'is not valid'}` };
  }
}

/** Turn ajv's errors (allErrors + verbose) into one problem per distinct fault. */
export function schemaProblems(errors: ErrorObject[], subject: SchemaSubject): ConfigProblem[] {
  const combinators = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const inBranch = (e: ErrorObject, c: ErrorObject) => e !== c && e.schemaPath.startsWith(c.schemaPath + '/');
  const problems: ConfigProblem[] = [];
  for (const e of errors) {
    if (combinators.some((c) => inBranch(e, c))) continue;
    if (e.keyword === 'propertyNames') continue; // its inner error (with propertyName) says it better
    problems.push(
      one(
        subject,
        e,
        errors.filter((b) => inBranch(b, e)),
      ),
    );
  }
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.position?.line}:${p.position?.column}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
