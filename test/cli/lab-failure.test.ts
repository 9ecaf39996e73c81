import { describe, expect, it } from 'vitest';
import { labFailure } from '../../src/cli/commands/lab.js';
import { ConfigError } from '../../src/core/config-error.js';
import { InternalError } from '../../src/core/internal-error.js';

describe('labFailure', () => {
  it('throws a bug on to the CLI (exit 70 with its stack) instead of hiding it as a failed lab step', () => {
    const bugs = [
      new TypeError("Cannot read properties of undefined (reading 'hosts')"),
      new RangeError('Invalid array length'),
      new InternalError('no such VM record'),
      'a thrown string',
    ];
    for (const bug of bugs) expect(() => labFailure(bug)).toThrow();
  });

  it('gives bad input exit 2 with its message and a failed lab step exit 1', () => {
    expect(labFailure(new ConfigError([{ message: 'ROLLGATE_LAB_ACCEL=x', hint: 'write auto, tcg or kvm' }]))).toEqual({
      code: 2,
      message: 'ROLLGATE_LAB_ACCEL=x. write auto, tcg or kvm',
    });
    expect(labFailure(new Error('lab1: QEMU did not start: no KVM'))).toEqual({
      code: 1,
      message: 'rollgate lab: lab1: QEMU did not start: no KVM',
    });
  });
});
