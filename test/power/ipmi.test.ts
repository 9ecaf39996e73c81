import { describe, expect, it } from 'vitest';
import { ipmitoolArgs, parsePowerStatus } from '../../src/power/ipmi.js';

describe('ipmitool arguments', () => {
  it('builds lanplus chassis power commands with the password left to the environment (-E)', () => {
    expect(ipmitoolArgs({ host: '10.0.0.5', user: 'admin' }, 'reset')).toEqual([
      '-v',
      '-I',
      'lanplus',
      '-H',
      '10.0.0.5',
      '-U',
      'admin',
      '-E',
      'chassis',
      'power',
      'reset',
    ]);
    expect(ipmitoolArgs({ host: 'bmc1', user: 'ops', port: 6230, cipherSuite: 17 }, 'status')).toEqual([
      '-v',
      '-I',
      'lanplus',
      '-H',
      'bmc1',
      '-p',
      '6230',
      '-C',
      '17',
      '-U',
      'ops',
      '-E',
      'chassis',
      'power',
      'status',
    ]);
  });
  it('leaves out the default port', () => {
    expect(ipmitoolArgs({ host: 'bmc1', user: 'ops', port: 623 }, 'off')).not.toContain('-p');
  });
  it.each([
    ['Chassis Power is on\n', 'on'],
    ['Chassis Power is off\n', 'off'],
    ['Get Chassis Power Status failed\n', 'unknown'],
  ])('reads %j as %s', (out, state) => {
    expect(parsePowerStatus(out)).toBe(state);
  });
});
