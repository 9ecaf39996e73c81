import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { loadPlaybook } from '../../src/load/playbook.js';
import { buildPlaybookSchema } from '../../src/load/schema.js';
import { parseYaml } from '../../src/load/yaml.js';

const dir = new URL('../../playbooks/', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yml'))
  .sort();
const validate = new Ajv({ allErrors: true, strict: false }).compile(buildPlaybookSchema());

describe('shipped playbooks', () => {
  it('are the four the issue names', () => {
    expect(files).toEqual([
      'enable-iommu-passthrough.yml',
      'health-snapshot.yml',
      'kernel-update.yml',
      'onboard-passthrough.yml',
    ]);
  });

  it.each(files)('%s validates against the published schema and loads', (file) => {
    const path = new URL(file, dir).pathname;
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/playbook.schema.json');
    const ok = validate(parseYaml(text, file).value);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    expect(loadPlaybook(path).plays.length).toBe(1);
  });
});
