/**
 * A block scalar that ends a file without a final line break: PyYAML (what Ansible reads with) gives it no `\n`,
 * js-yaml read it as if the file had one. Expected values are PyYAML 6's `yaml.safe_load` of each text.
 */
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../src/load/yaml.js';

const cases: Array<[string, unknown]> = [
  ['a: |\n  x', { a: 'x' }],
  ['a: |+\n  x', { a: 'x' }],
  ['a: >\n  x\n  y', { a: 'x y' }],
  ['a: |\n  x\n', { a: 'x\n' }],
  ['a: |-\n  x', { a: 'x' }],
  ['- |\n  x\n  y', ['x\ny']],
  ['a:\n  b: |\n    x\n# c', { a: { b: 'x\n' } }],
  ['a: |\n  x\n\n', { a: 'x\n' }],
  ['a: |+\n  x\n\n', { a: 'x\n\n' }],
  ['k: |\n  x\nz: |\n  y', { k: 'x\n', z: 'y' }],
];

describe('block scalars at the end of a file, as PyYAML reads them', () => {
  for (const [text, want] of cases)
    it(JSON.stringify(text), () => {
      expect(parseYaml(text, 'f.yml').value).toEqual(want);
    });
});
