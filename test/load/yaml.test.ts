import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../src/load/yaml.js';
import { ConfigError } from '../../src/core/config-error.js';

describe('parseYaml', () => {
  it('reads YAML 1.1 booleans as Ansible does', () => {
    expect(parseYaml('a: yes\nb: off\nc: "yes"\n', 'f.yml').value).toEqual({ a: true, b: false, c: 'yes' });
  });

  it('gives the line and column of values and keys', () => {
    const doc = parseYaml(
      '- name: x\n  hosts: all\n  tasks:\n    - name: t\n      kernel_args:\n        present: [a, b]\n',
      'p.yml',
    );
    expect(doc.positionOf([0, 'hosts'])).toEqual({ file: 'p.yml', line: 2, column: 10 });
    expect(doc.positionOf([0, 'hosts'], 'key')).toEqual({ file: 'p.yml', line: 2, column: 3 });
    expect(doc.positionOf([0, 'tasks', 0, 'kernel_args', 'present', 1])).toEqual({
      file: 'p.yml',
      line: 6,
      column: 22,
    });
    expect(doc.positionOf([0, 'tasks', 0, 'missing'])).toEqual({ file: 'p.yml', line: 4, column: 7 });
  });

  it('reports a syntax error with file, line, column and a fix', () => {
    try {
      parseYaml('a:\n  b: 1\n c: 2\n', 'bad.yml');
      expect.fail('should throw');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(/^bad\.yml:3:\d+: YAML syntax error: /);
    }
  });
});

describe('parseYaml booleans', () => {
  it('keeps y and n as strings, as PyYAML (and so Ansible) does', () => {
    expect(parseYaml('y: n\nY: N\nz: ON\n', 'f.yml').value).toEqual({ y: 'n', Y: 'N', z: true });
  });
});

describe('parseYaml positions of empty values', () => {
  it('places an empty value at its key', () => {
    const doc = parseYaml('a:\n  b:\n  c: 1\n', 'f.yml');
    expect(doc.positionOf(['a', 'b'])).toEqual({ file: 'f.yml', line: 2, column: 3 });
  });
});

describe('alias bombs in any YAML input', () => {
  it('refuses a document whose aliases add more than 200000 values, and accepts a large one written out', () => {
    const levels = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefg'.split('').map((l, i) => `${l}: &${l} [${Array(10).fill(`*${'abcdef'[i]}`).join(', ')}]`),
    ];
    expect(() => parseYaml(levels.join('\n'), 'vars.yml', 'this vars file')).toThrow(
      'vars.yml:1:1: this vars file expands to more than 200000 values (YAML aliases that repeat aliases?). write the values out, or use fewer nested aliases',
    );
    const big = `all: [${Array.from({ length: 300_000 }, (_, i) => i).join(', ')}]`;
    expect((parseYaml(big, 'big.yml').value as { all: number[] }).all).toHaveLength(300_000);
  });
});
