import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { buildPlaybookSchema, playbookSchemaText } from '../../src/load/schema.js';
import { parseYaml } from '../../src/load/yaml.js';
import { moduleSpecs } from '../../src/modules/registry.js';

const committed = readFileSync(new URL('../../schemas/playbook.schema.json', import.meta.url), 'utf8');
const validate = new Ajv({ allErrors: true, strict: false }).compile(buildPlaybookSchema());
const valid = (yaml: string) => validate(parseYaml(yaml, 'x.yml').value);

describe('playbook JSON Schema', () => {
  it('is committed as generated (run `npm run schemas` after changing modules or keywords)', () => {
    expect(committed).toBe(playbookSchemaText());
  });

  it('describes every module', () => {
    const defs = (buildPlaybookSchema().definitions ?? {}) as Record<string, unknown>;
    for (const name of Object.keys(moduleSpecs)) expect(defs[`module_${name}`]).toBeDefined();
  });

  it('accepts a play with blocks, loops, handlers and templated options', () => {
    expect(
      valid(`
- hosts: hypervisors
  serial: [1, "20%"]
  tasks:
    - block:
        - kernel_args: { present: ["{{ vendor }}_iommu=on", iommu=pt] }
          notify: rebuild
      rescue:
        - debug: { msg: failed }
    - reboot:
        boot_timeout: "{{ timeout }}"
    - command: echo hi
    - reboot:
  handlers:
    - name: rebuild
      initramfs: {}
      listen: rebuild initramfs
`),
    ).toBe(true);
  });

  it.each([
    ['an unknown play key', '- hosts: all\n  hots: x\n  tasks: []\n'],
    ['an unknown module option', '- hosts: all\n  tasks:\n    - kernel_args: { add: [x] }\n'],
    ['two modules in one task', '- hosts: all\n  tasks:\n    - debug: {}\n      command: x\n'],
    ['no module', '- hosts: all\n  tasks:\n    - name: nothing\n'],
    ['a missing required option', '- hosts: all\n  tasks:\n    - vfio_bind: {}\n'],
    ['a bad serial', '- hosts: all\n  serial: fast\n  tasks: []\n'],
    ['listen on a task', '- hosts: all\n  tasks:\n    - debug: {}\n      listen: x\n'],
  ])('rejects %s', (_what, yaml) => {
    expect(valid(yaml)).toBe(false);
  });
});
