import { describe, expect, it } from 'vitest';
import { planBatches, serialToCount, serialValueProblem, type SerialSpec } from '../../src/strategy/serial.js';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${String(i + 1).padStart(2, '0')}`);
const sizes = (serial: SerialSpec | undefined, n: number, total?: number) =>
  planBatches(hosts(n), serial, total).map((b) => b.length);

describe('planBatches follows Ansible serial', () => {
  it.each<[string, SerialSpec | undefined, number, number[]]>([
    ['no serial: one batch', undefined, 5, [5]],
    ['a number', 3, 7, [3, 3, 1]],
    ['a number as a string', '2', 5, [2, 2, 1]],
    ['a percentage of all hosts, rounded down', '30%', 10, [3, 3, 3, 1]],
    ['a percentage below one host becomes one host', '1%', 10, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
    ['a list, the last value repeating (Ansible docs: [1, 5, 10])', [1, 5, 10], 20, [1, 5, 10, 4]],
    ['a mixed list of percentages', ['10%', '20%', '100%'], 20, [2, 4, 14]],
    ['the list from the issue', [1, '10%', '25%'], 40, [1, 4, 10, 10, 10, 5]],
    ['zero means all remaining hosts', 0, 4, [4]],
    ['a list ending in zero takes the rest', [1, 0], 5, [1, 4]],
    ['more than there are hosts', 50, 3, [3]],
    ['no hosts, no batches', 2, 0, []],
  ])('%s', (_title, serial, n, expected) => {
    expect(sizes(serial, n)).toEqual(expected);
  });

  it('keeps host order and never repeats or drops a host', () => {
    const batches = planBatches(hosts(9), [2, '50%']);
    expect(batches).toEqual([
      ['h01', 'h02'],
      ['h03', 'h04', 'h05', 'h06'],
      ['h07', 'h08', 'h09'],
    ]);
  });

  it('takes percentages of the total it is given (the play), not of the hosts left after canaries', () => {
    expect(sizes('50%', 8, 10)).toEqual([5, 3]);
  });
});

describe('serial values', () => {
  it.each<[unknown, number, number]>([
    ['25%', 8, 2],
    [' 25 % ', 8, 2],
    [4, 100, 4],
    ['100%', 3, 3],
  ])('%j of %i hosts is %i', (value, total, expected) => {
    expect(serialToCount(value as string | number, total)).toBe(expected);
  });

  it.each<[unknown, string | null]>([
    [2, null],
    ['10%', null],
    ['7', null],
    [1.5, 'serial 1.5 is not a whole number of hosts'],
    [-1, 'serial -1 is not a whole number of hosts'],
    ['150%', 'serial 150% is more than 100%'],
    ['ten', 'serial "ten" is neither a number nor a percentage'],
    [null, 'serial must be a number, a percentage like "25%" or a list of them, not null'],
    [true, 'serial must be a number, a percentage like "25%" or a list of them, not boolean'],
  ])('%j -> %j', (value, problem) => {
    expect(serialValueProblem(value)).toBe(problem);
  });
});
