import { describe, expect, it } from 'vitest';
import { createAjv, validateDocument } from '../../src/load/schema-errors.js';
import { parseYaml } from '../../src/load/yaml.js';
import { formatProblem } from '../../src/core/config-error.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    mode: { enum: ['strict', 'accept-new'] },
    items: { type: ['object', 'null'], 'x-hint': 'write items as a mapping of name to settings' },
    either: {
      anyOf: [
        { type: 'string' },
        { type: 'object', properties: { a: { type: 'integer' } }, additionalProperties: false },
      ],
    },
  },
  required: ['name'],
};
const validate = createAjv().compile(schema);
const check = (text: string) => validateDocument(validate, parseYaml(text, 'f.yml')).map(formatProblem);

describe('validateDocument', () => {
  it('accepts a valid document', () => {
    expect(check('name: x\nport: 22\n')).toEqual([]);
  });

  it('names an unknown key at its position and suggests the near one', () => {
    expect(check('name: x\nprot: 22\n')).toEqual([
      'f.yml:2:1: unknown key `prot` at the top level. did you mean `port`?',
    ]);
  });

  it('lists the allowed keys when no key is near', () => {
    expect(check('name: x\nzzzzzz: 1\n')).toEqual([
      'f.yml:2:1: unknown key `zzzzzz` at the top level. Allowed keys: name, port, mode, items, either',
    ]);
  });

  it('words type errors and uses the schema hint', () => {
    expect(check('name: x\nitems: [a, b]\n')).toEqual([
      'f.yml:2:8: `items` must be a mapping or empty, not a list. write items as a mapping of name to settings',
    ]);
    expect(check('name: x\nport: "22"\n')).toEqual(['f.yml:2:8: `port` must be an integer, not a string']);
  });

  it('reports range, enum and required problems', () => {
    expect(check('port: 0\nmode: acept-new\n')).toEqual([
      'f.yml:1:1: the document is missing the key `name`',
      'f.yml:1:7: `port` must be at least 1, not 0',
      'f.yml:2:7: `mode` must be one of "strict", "accept-new". did you mean `accept-new`?',
    ]);
  });

  it('reports the inner problem of the alternative that was meant', () => {
    expect(check('name: x\neither:\n  b: 1\n')).toEqual(['f.yml:3:3: unknown key `b` under `either`. Allowed keys: a']);
    expect(check('name: x\neither: [1]\n')).toEqual(['f.yml:2:9: `either` must be a string or a mapping, not a list']);
  });
});
