import { describe, expect, it } from 'vitest';
import { parseSerial, planBatches, serialStepCount, type SerialStep } from '../../src/strategy/serial.js';
import { exceedsMaxFail, parseMaxFailPercentage } from '../../src/strategy/threshold.js';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${String(i + 1).padStart(2, '0')}`);
const steps = (value: unknown): SerialStep[] => {
  const read = parseSerial(value);
  expect(read.problems).toEqual([]);
  return read.steps;
};
const sizes = (serial: unknown, n: number, total?: number) =>
  planBatches(hosts(n), serial === undefined ? undefined : steps(serial), total).map((b) => b.length);

describe('planBatches follows Ansible serial', () => {
  it.each<[string, unknown, number, number[]]>([
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
    const batches = planBatches(hosts(9), steps([2, '50%']));
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
    // Ansible computes int(29 / 100.0 * 100) in floating point: 28, not 29
    ['29%', 100, 28],
    ['12%', 8, 1],
  ])('%j of %i hosts is %i', (value, total, expected) => {
    expect(serialStepCount(steps(value)[0] as SerialStep, total)).toBe(expected);
  });

  it.each<[unknown, string | null]>([
    [2, null],
    [0, null],
    ['10%', null],
    ['7', null],
    [1.5, '`serial` 1.5 is not a whole number of hosts'],
    [-1, '`serial` -1 is not a whole number of hosts'],
    ['12.5%', '`serial` "12.5%" is not a whole percentage (Ansible refuses it too)'],
    ['0%', '`serial` "0%" must be from 1% to 100%'],
    ['150%', '`serial` "150%" must be from 1% to 100%'],
    ['ten', '`serial` "ten" is neither a host count nor a percentage'],
    [[], '`serial` is an empty list'],
    [null, '`serial` must be a host count, a percentage or a list of them, not null'],
    [true, '`serial` must be a host count, a percentage or a list of them, not boolean'],
  ])('%j -> %j', (value, problem) => {
    expect(parseSerial(value).problems[0]?.message ?? null).toBe(problem);
  });

  it('names the position of the bad item in a list, and gives no steps when any is bad', () => {
    expect(parseSerial([1, 'half', '25%'])).toEqual({
      steps: [],
      problems: [
        {
          path: [1],
          message: '`serial` "half" is neither a host count nor a percentage',
          hint: 'write a host count such as 2, a percentage such as "25%" or a list such as [1, "25%"]',
        },
      ],
    });
  });
});

describe('max_fail_percentage', () => {
  it.each<[unknown, number | null]>([
    [20, 20],
    [0, 0],
    [12.5, 12.5],
    ['20%', 20],
    ['12.5', 12.5],
    [100, 100],
    [150, null],
    [-1, null],
    ['most', null],
    [true, null],
  ])('%j reads as %j', (value, expected) => {
    const read = parseMaxFailPercentage(value);
    expect('value' in read ? read.value : null).toBe(expected);
  });

  it.each<[number, number, number | undefined, boolean]>([
    [1, 4, 25, false],
    [2, 4, 25, true],
    [0, 4, 0, false],
    [1, 4, 0, true],
    [3, 3, undefined, false],
    [1, 3, 100 / 3, false],
  ])('%i failed of %i with max_fail_percentage %s -> stop %s', (failed, size, max, stop) => {
    expect(exceedsMaxFail(failed, size, max)).toBe(stop);
  });
});
