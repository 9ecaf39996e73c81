import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpmiDriver, type IpmiOptions } from '../../src/power/ipmi.js';
import { PowerError } from '../../src/power/power-error.js';
import { startIpmiSim, type IpmiSim } from '../support/ipmi-sim.js';

const USER = 'rgadmin';
const PASSWORD = 'ipmi-S3cret-pw';
let sim: IpmiSim;
let wrapper: string;
let argvLog: string;

beforeAll(async () => {
  sim = await startIpmiSim({ user: USER, password: PASSWORD });
  // A wrapper that records the argv and environment ipmitool receives, then runs the real one.
  const dir = mkdtempSync(join(tmpdir(), 'rg-ipmitool-'));
  argvLog = join(dir, 'argv.log');
  wrapper = join(dir, 'ipmitool');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nprintf '%s\\n' "ARGV $*" "ENV ${'$'}{IPMI_PASSWORD:+set}" >> ${argvLog}\nexec ipmitool "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
});
afterAll(async () => {
  await sim?.stop();
});

function driver(over: Partial<IpmiOptions> = {}): IpmiDriver {
  // ipmi_sim does not answer ipmitool's cipher-suite discovery, so name suite 3 as operators do for such BMCs.
  return new IpmiDriver({
    host: '127.0.0.1',
    port: sim.port,
    user: USER,
    password: PASSWORD,
    passwordEnv: 'IPMI_PASSWORD',
    cipherSuite: 3,
    timeoutMs: 20_000,
    ipmitool: wrapper,
    ...over,
  });
}

describe('ipmi driver against a real BMC simulator (ipmitool lanplus -> ipmi_sim on loopback)', () => {
  it('reads the power state, resets, powers off and on', async () => {
    const d = driver();
    expect(await d.status()).toBe('on');
    await d.reset();
    await d.powerOff();
    expect(await d.status()).toBe('off');
    await d.powerOn();
    expect(await d.status()).toBe('on');
    expect(sim.calls()).toEqual(['get power', 'set reset 1', 'set power 0', 'get power', 'set power 1', 'get power']);
  });

  it('passes the password only through the environment, never on the command line', () => {
    const log = readFileSync(argvLog, 'utf8');
    expect(log).toContain(`ARGV -v -I lanplus -H 127.0.0.1 -p ${sim.port} -C 3 -U ${USER} -E chassis power reset`);
    expect(log).toContain('ENV set');
    expect(log).not.toContain(PASSWORD);
  });

  it('fails a wrong password as a non-retryable auth error that does not name the password', async () => {
    const err = await driver({ password: 'not-the-password' })
      .reset()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(PowerError);
    const e = err as PowerError;
    expect(e.kind).toBe('auth');
    expect(e.retryable).toBe(false);
    expect(e.message).not.toContain('not-the-password');
    expect(e.message).not.toContain(PASSWORD);
    expect(sim.calls()).not.toContain('set reset 1 ');
  });

  it('tells a wrong user from a wrong password, both as auth errors', async () => {
    const err = await driver({ user: 'nobody' })
      .status()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ kind: 'auth' });
    expect((err as Error).message).toContain('unauthorized name');
  });

  it('reports a BMC that does not answer', async () => {
    const err = await driver({ port: 9, timeoutMs: 4_000 })
      .status()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(PowerError);
    expect((err as PowerError).kind).toMatch(/unreachable|timeout/);
  });

  it('describes itself without the password', () => {
    expect(driver().describe).toBe(`ipmi ${USER}@127.0.0.1:${sim.port} (password from $IPMI_PASSWORD)`);
  });
});
