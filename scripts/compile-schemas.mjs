#!/usr/bin/env node
// Build step (after tsc): compile the schemas that rollgate validates with createAjv() at run time
// (schemas/NAME.schema.json for each NAME below) into standalone ajv code at dist/load/validators/NAME.cjs,
// tagged with the schema's sha256 (see src/load/schema-validator.ts).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { createAjv } from '../dist/load/schema-errors.js';
import { schemaHash } from '../dist/load/schema-validator.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'load', 'validators');
mkdirSync(out, { recursive: true });
/** Schemas loaded through schemaValidator(NAME). */
const PRECOMPILED = ['inventory'];

for (const name of PRECOMPILED) {
  const text = readFileSync(join(root, 'schemas', `${name}.schema.json`), 'utf8');
  const ajv = createAjv({ code: { source: true } });
  const validate = ajv.compile(JSON.parse(text));
  writeFileSync(
    join(out, `${name}.cjs`),
    `${standaloneCode.default(ajv, validate)}\nmodule.exports.schemaHash = ${JSON.stringify(schemaHash(text))};\n`,
  );
}
