/** Validates snapshots produced in tests against the published JSON Schema (schemas/snapshot.schema.json). */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { expect } from 'vitest';

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(JSON.parse(readFileSync('schemas/snapshot.schema.json', 'utf8')));

export function expectValidSnapshot(snapshot: unknown): void {
  const ok = validate(JSON.parse(JSON.stringify(snapshot)));
  expect(ok, ajv.errorsText(validate.errors, { separator: '\n' })).toBe(true);
}
