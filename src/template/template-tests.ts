/**
 * Jinja tests Ansible playbooks use beyond nunjucks' own: `is version(...)`, the registered-result tests
 * (`is failed`, `is changed`, `is skipped`, `is succeeded`), regex tests and Python truthiness.
 */
import { isTruthy, kwargs, pythonRegex, versionTest } from './template-values.js';

function result(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new Error('this test needs a registered result (a dict)');
  return value as Record<string, unknown>;
}

function regexTest(kind: 'match' | 'search' | 'fullmatch') {
  return (value: unknown, pattern: unknown, ...rest: unknown[]): boolean => {
    const { kw } = kwargs(rest);
    const flags = (isTruthy(kw.ignorecase) ? 'i' : '') + (isTruthy(kw.multiline) ? 'm' : '');
    const source = String(pattern);
    const wrapped = kind === 'match' ? `^(?:${source})` : kind === 'fullmatch' ? `^(?:${source})$` : source;
    return pythonRegex(wrapped, flags).test(String(value ?? ''));
  };
}

const contains = (a: unknown, b: unknown): boolean =>
  Array.isArray(a) && a.some((x) => JSON.stringify(x) === JSON.stringify(b));

export const ansibleTests: Record<string, (...args: never[]) => boolean> = {
  version: versionTest,
  version_compare: versionTest,
  failed: (v: unknown) => result(v).failed === true,
  failure: (v: unknown) => result(v).failed === true,
  succeeded: (v: unknown) => result(v).failed !== true,
  success: (v: unknown) => result(v).failed !== true,
  changed: (v: unknown) => result(v).changed === true,
  change: (v: unknown) => result(v).changed === true,
  skipped: (v: unknown) => result(v).skipped === true,
  skip: (v: unknown) => result(v).skipped === true,
  match: regexTest('match'),
  search: regexTest('search'),
  regex: regexTest('search'),
  truthy: (v: unknown) => isTruthy(v),
  falsy: (v: unknown) => !isTruthy(v),
  none: (v: unknown) => v === null,
  boolean: (v: unknown) => typeof v === 'boolean',
  integer: (v: unknown) => Number.isInteger(v),
  float: (v: unknown) => typeof v === 'number' && !Number.isInteger(v),
  sequence: (v: unknown) => Array.isArray(v) || typeof v === 'string',
  list: (v: unknown) => Array.isArray(v),
  contains,
  subset: (a: unknown, b: unknown) => Array.isArray(a) && a.every((x) => contains(b, x)),
  superset: (a: unknown, b: unknown) => Array.isArray(b) && b.every((x) => contains(a, x)),
  in: (a: unknown, b: unknown) => (Array.isArray(b) ? contains(b, a) : typeof b === 'string' && b.includes(String(a))),
};
