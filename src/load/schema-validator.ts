/**
 * Validators for the JSON Schemas in schemas/, precompiled at build time by scripts/compile-schemas.mjs (ajv
 * standalone code in dist/load/validators/NAME.cjs) so that a CLI run neither loads ajv nor compiles a schema
 * (~150 ms of CPU before the first host is contacted). Each precompiled file records the sha256 of the schema it
 * was made from; when it is missing (tests run from src/) or stale (schema edited since the build), the schema
 * is compiled here instead, so a stale validator is never used.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { createAjv } from './schema-errors.js';

const validators = new Map<string, ValidateFunction>();

/** sha256 of a schema file's text, as stored in its precompiled validator. */
export function schemaHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The validator for schemas/NAME.schema.json, loaded once per process. */
export function schemaValidator(name: string): ValidateFunction {
  const known = validators.get(name);
  if (known) return known;
  const text = readFileSync(new URL(`../../schemas/${name}.schema.json`, import.meta.url), 'utf8');
  const precompiled = fileURLToPath(new URL(`./validators/${name}.cjs`, import.meta.url));
  let validate: ValidateFunction | undefined;
  if (existsSync(precompiled)) {
    const mod = createRequire(import.meta.url)(precompiled) as ValidateFunction & { schemaHash?: string };
    if (mod.schemaHash === schemaHash(text)) validate = mod;
  }
  validate ??= createAjv().compile(JSON.parse(text) as object);
  validators.set(name, validate);
  return validate;
}
