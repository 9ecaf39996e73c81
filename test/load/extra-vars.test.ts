import { describe, expect, it } from 'vitest';
import { parseExtraVars } from '../../src/load/extra-vars.js';

describe('parseExtraVars', () => {
  it('reads KEY=VALUE words, JSON and YAML mappings; later options win', () => {
    expect(parseExtraVars(['a=1 b="two words"', '{"ids": ["10de:1e87"], "a": 2}', 'c=x=y'])).toEqual({
      a: 2,
      b: 'two words',
      ids: ['10de:1e87'],
      c: 'x=y',
    });
  });

  it.each([
    ['novalue', '-e novalue: expected KEY=VALUE. write e.g. -e target_kernel=6.1.0-13-amd64'],
    ['1a=b', '-e 1a=b: expected KEY=VALUE. write e.g. -e target_kernel=6.1.0-13-amd64'],
    ['[1, 2]', '-e [1, 2] must be a mapping of variables. write -e KEY=VALUE, -e \'{"key": "value"}\' or -e @vars.yml'],
    [
      '{"__proto__": {"x": 1}}',
      '-e {"__proto__": {"x": 1}}: `__proto__` is not a variable name. use letters, digits and _, not starting with a digit',
    ],
    ['a="open', '-e a="open: unbalanced quotes. close every quote'],
  ])('refuses %s', (input, message) => {
    expect(() => parseExtraVars([input])).toThrow(message);
  });
});
