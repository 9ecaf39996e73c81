import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpmiDriver, ipmitoolArgs, parsePowerStatus } from '../../src/power/ipmi.js';
import { PowerError } from '../../src/power/power-error.js';

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

describe('IpmiDriver running ipmitool (a tiny stand-in program)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollgate-ipmi-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const tool = (name: string, body: string) => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };
  const driver = (ipmitool: string, timeoutMs = 10_000) =>
    new IpmiDriver({
      host: 'bmc1',
      user: 'ops',
      password: 'pw with spaces',
      passwordEnv: 'BMC_PW',
      ipmitool,
      timeoutMs,
    });

  it('passes the password through the environment only and reads the power state', async () => {
    const argsFile = join(dir, 'args');
    const ok = tool(
      'ok',
      `printf '%s\\n' "$@" > '${argsFile}'; echo "Chassis Power is $([ "$IPMI_PASSWORD" = 'pw with spaces' ] && echo on || echo off)"`,
    );
    expect(await driver(ok).status()).toBe('on');
    const argv = readFileSync(argsFile, 'utf8');
    expect(argv).toBe(
      ['-v', '-I', 'lanplus', '-H', 'bmc1', '-U', 'ops', '-E', 'chassis', 'power', 'status', ''].join('\n'),
    );
  });

  it('says ipmitool is missing, without retry', async () => {
    const err = await driver(join(dir, 'no-such-ipmitool'))
      .reset()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PowerError);
    expect((err as PowerError).message).toBe(
      'ipmi bmc1: chassis power reset: ipmitool is not installed on the controller',
    );
    expect((err as PowerError).retryable).toBe(false);
  });

  it('kills a silent ipmitool at the time limit', async () => {
    const err = await driver(tool('slow', 'exec sleep 30'), 300)
      .powerOn()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PowerError);
    expect((err as PowerError).kind).toBe('timeout');
    expect((err as PowerError).message).toBe('ipmi bmc1: chassis power on: no answer within 300 ms');
  });

  it('classifies a refusal and keeps the password out of the message', async () => {
    const bad = tool('bad', 'echo "RAKP 2 HMAC is invalid for $IPMI_PASSWORD" >&2; exit 1');
    const err = await driver(bad)
      .powerOff()
      .catch((e: unknown) => e);
    expect((err as PowerError).kind).toBe('auth');
    expect((err as PowerError).message).toMatch(/^ipmi bmc1: chassis power off failed: RAKP 2 HMAC is invalid for /);
    expect((err as PowerError).message).not.toContain('pw with spaces');
  });
});
