#!/usr/bin/env node
// Build step (after tsc): compile every schemas/NAME.schema.json into standalone ajv code at
// dist/load/validators/NAME.cjs, tagged with the schema's sha256 (see src/load/schema-validator.ts).
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { createAjv } from '../dist/load/schema-errors.js';
import { schemaHash } from '../dist/load/schema-validator.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'load', 'validators');
mkdirSync(out, { recursive: true });
for (const file of readdirSync(join(root, 'schemas')).filter((f) => f.endsWith('.schema.json'))) {
  const text = readFileSync(join(root, 'schemas', file), 'utf8');
  const ajv = createAjv({ code: { source: true } });
  const validate = ajv.compile(JSON.parse(text));
  const name = file.replace(/\.schema\.json$/, '');
  writeFileSync(join(out, `${name}.cjs`), `${standaloneCode.default(ajv, validate)}\nmodule.exports.schemaHash = ${JSON.stringify(schemaHash(text))};\n`);
}
