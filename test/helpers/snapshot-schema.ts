/** Validates what tests produce against the published JSON Schemas (schemas/snapshot.schema.json, run.schema.json, run-summary.schema.json). */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { expect } from 'vitest';

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(JSON.parse(readFileSync('schemas/snapshot.schema.json', 'utf8')));

export function expectValidSnapshot(snapshot: unknown): void {
  const ok = validate(JSON.parse(JSON.stringify(snapshot)));
  expect(ok, ajv.errorsText(validate.errors, { separator: '\n' })).toBe(true);
}

const validateRun = ajv.compile(JSON.parse(readFileSync('schemas/run.schema.json', 'utf8')));
const validateRunSummary = ajv.compile(JSON.parse(readFileSync('schemas/run-summary.schema.json', 'utf8')));

/** `rollgate show RUN --json` against schemas/run.schema.json. */
export function expectValidRunJson(doc: unknown): void {
  expect(validateRun(doc), ajv.errorsText(validateRun.errors, { separator: '\n' })).toBe(true);
}

/** A line of `rollgate runs --json` against schemas/run-summary.schema.json. */
export function expectValidRunSummaryJson(doc: unknown): void {
  expect(validateRunSummary(doc), ajv.errorsText(validateRunSummary.errors, { separator: '\n' })).toBe(true);
}
