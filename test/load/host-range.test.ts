import { describe, expect, it } from 'vitest';
import { expandHostPattern } from '../../src/load/host-range.js';

// Expected values were produced by Ansible 2.14's own BaseFileInventoryPlugin._expand_hostpattern.
const ansibleCases: [string, string[], number | undefined][] = [
  ['hv[01:03].example', ['hv01.example', 'hv02.example', 'hv03.example'], undefined],
  ['rack-[a:c]', ['rack-a', 'rack-b', 'rack-c'], undefined],
  ['hv[01:07:3]', ['hv01', 'hv04', 'hv07'], undefined],
  ['hv[1:3]-n[a:b]', ['hv1-na', 'hv1-nb', 'hv2-na', 'hv2-nb', 'hv3-na', 'hv3-nb'], undefined],
  ['hv01:2222', ['hv01'], 2222],
  ['[fe80::1]:22', ['fe80::1'], 22],
  ['10.0.0.[1:3]:2200', ['10.0.0.1', '10.0.0.2', '10.0.0.3'], 2200],
  ['fe80::1', ['fe80::1'], undefined],
  ['h_-', ['h_-'], undefined],
  ['h_-:22', ['h_-:22'], undefined],
  ['my host:22', ['my host:22'], undefined],
  ['héllo:22', ['héllo'], 22],
  ['x[:2]', ['x0', 'x1', 'x2'], undefined],
  ['hv[08:10]', ['hv08', 'hv09', 'hv10'], undefined],
  ['host:', ['host:'], undefined],
];

describe('expandHostPattern', () => {
  it.each(ansibleCases)('expands %s as Ansible does', (pattern, names, port) => {
    expect(expandHostPattern(pattern)).toEqual(port === undefined ? { names } : { names, port });
  });

  it.each([
    ['hv[20:01]', 'counts down and names no host', 'write the smaller bound first: `[01:20]`'],
    ['a[Y:b]', 'counts down', 'write the earlier letter first'],
    ['hv[1:5:0]', 'has step `0`', 'at least 1'],
    ['hv[01:100]', 'different widths', 'write both with 2 digits'],
    ['hv[1]', 'must be begin:end or begin:end:step', '`hv[01:20]`'],
    ['hv[1:]', 'has no end value', '`[01:20]`'],
    ['hv[a:5]', 'neither numeric nor a single-letter range', '`[a:f]`'],
    ['hv[01:20', 'unclosed `[`', 'remove the `[`'],
  ])('refuses %s with a fix', (pattern, error, hint) => {
    const result = expandHostPattern(pattern);
    expect(result).toHaveProperty('error');
    if ('error' in result) {
      expect(result.error).toContain(error);
      expect(result.hint).toContain(hint);
    }
  });
});
