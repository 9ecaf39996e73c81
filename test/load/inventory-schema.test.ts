import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inventoryValidator } from '../../src/load/inventory-yaml.js';
import { parseYaml } from '../../src/load/yaml.js';

const fixtures = new URL('../fixtures/inventories/', import.meta.url).pathname;
const yamlInventories = readdirSync(fixtures).flatMap((dir) =>
  readdirSync(join(fixtures, dir))
    .filter((f) => /\.ya?ml$/.test(f) && statSync(join(fixtures, dir, f)).isFile())
    .map((f) => join(dir, f)),
);

describe('schemas/inventory.schema.json', () => {
  it('is a draft-07 schema that ajv compiles in strict mode', () => {
    const schema = JSON.parse(
      readFileSync(new URL('../../schemas/inventory.schema.json', import.meta.url), 'utf8'),
    ) as { $schema: string };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(typeof inventoryValidator()).toBe('function');
  });

  it.each(yamlInventories)('accepts the valid inventory %s', (file) => {
    const validate = inventoryValidator();
    const ok = validate(parseYaml(readFileSync(join(fixtures, file), 'utf8'), file).value);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });
});
