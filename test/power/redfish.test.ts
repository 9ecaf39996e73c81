import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedfishDriver, pickResetType, type RedfishOptions } from '../../src/power/redfish.js';
import { PowerError } from '../../src/power/power-error.js';
import { readFileSync } from 'node:fs';
import { startFakeBmc, type FakeBmc } from '../support/redfish-server.js';

const USER = 'rgadmin';
const PASSWORD = 'Pa55-w0rd!secret';
let bmc: FakeBmc;

beforeAll(async () => {
  bmc = await startFakeBmc({ user: USER, password: PASSWORD, tls: true });
});
afterAll(async () => {
  await bmc?.close();
});
afterEach(() => {
  bmc.requests.length = 0;
  bmc.powerState = 'On';
  bmc.echoCredentials = false;
  bmc.failReset = undefined;
  bmc.allowed = ['On', 'ForceOff', 'ForceRestart', 'GracefulShutdown'];
});

function driver(over: Partial<RedfishOptions> = {}): RedfishDriver {
  return new RedfishDriver({
    url: bmc.url,
    user: USER,
    password: PASSWORD,
    passwordEnv: 'BMC_PASSWORD',
    tls: { verify: true, ca: readFileSync(bmc.certFile) },
    ...over,
  });
}

async function failure(p: Promise<unknown>): Promise<PowerError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PowerError);
  const e = err as PowerError;
  expect(e.message).not.toContain(PASSWORD);
  expect(e.message).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
  return e;
}

describe('redfish driver against a local Redfish service', () => {
  it('resets with ForceRestart at the target the system advertises, after finding the system', async () => {
    await driver().reset();
    expect(bmc.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /redfish/v1/Systems',
      'GET /redfish/v1/Systems/437XR1138R2',
      'POST /redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset',
    ]);
    expect(bmc.requests[2]).toMatchObject({ body: { ResetType: 'ForceRestart' }, auth: 'basic' });
  });

  it('powers off and on and reads PowerState', async () => {
    const d = driver({ system: '/redfish/v1/Systems/437XR1138R2' });
    await d.powerOff();
    expect(await d.status()).toBe('off');
    await d.powerOn();
    expect(await d.status()).toBe('on');
    expect(bmc.requests.filter((r) => r.method === 'POST').map((r) => r.body)).toEqual([
      { ResetType: 'ForceOff' },
      { ResetType: 'On' },
    ]);
  });

  it('falls back to PowerCycle when the system does not allow ForceRestart', async () => {
    bmc.allowed = ['On', 'ForceOff', 'PowerCycle'];
    await driver().reset();
    expect(bmc.requests.at(-1)?.body).toEqual({ ResetType: 'PowerCycle' });
  });

  it('refuses clearly when no reset type fits', async () => {
    bmc.allowed = ['On', 'GracefulShutdown'];
    const e = await failure(driver().reset());
    expect(e.kind).toBe('refused');
    expect(e.message).toContain('allows none of ForceRestart, PowerCycle');
  });

  it('uses a session when asked, and deletes it afterwards', async () => {
    await driver({ auth: 'session' }).reset();
    expect(bmc.requests.map((r) => `${r.method} ${r.path.replace(/Sessions\/\d+$/, 'Sessions/N')} ${r.auth}`)).toEqual([
      'POST /redfish/v1/SessionService/Sessions none',
      'GET /redfish/v1/Systems token',
      'GET /redfish/v1/Systems/437XR1138R2 token',
      'POST /redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset token',
      'DELETE /redfish/v1/SessionService/Sessions/N token',
    ]);
    expect(bmc.liveSessions.size).toBe(0);
  });

  it('reports a wrong password as an auth failure without the password', async () => {
    const e = await failure(driver({ password: 'wrong-one' }).status());
    expect(e.kind).toBe('auth');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('check the password in $BMC_PASSWORD');
    const s = await failure(driver({ auth: 'session', password: 'wrong-one' }).status());
    expect(s.kind).toBe('auth');
  });

  it('scrubs credentials a careless BMC quotes back in its errors', async () => {
    bmc.echoCredentials = true;
    bmc.failReset = 400;
    const e = await failure(driver().powerOff());
    expect(e.kind).toBe('refused');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain(`reset refused for ${USER}:*** (Basic ***)`);
    bmc.failReset = 503;
    const busy = await failure(driver().reset());
    expect(busy.retryable).toBe(true);
  });

  it('verifies TLS by default and refuses a certificate it cannot trust', async () => {
    const e = await failure(driver({ tls: { verify: true } }).status());
    expect(e.kind).toBe('tls');
    expect(e.message).toMatch(/ca_file|verify_tls/);
  });

  it('connects to an untrusted certificate only when told not to verify', async () => {
    expect(await driver({ tls: { verify: false } }).status()).toBe('on');
    expect(driver({ tls: { verify: false } }).describe).toContain('TLS not verified');
  });

  it('reports a BMC that does not answer as unreachable and retryable', async () => {
    const e = await failure(driver({ url: 'https://127.0.0.1:1' }).status());
    expect(e.kind).toBe('unreachable');
    expect(e.retryable).toBe(true);
  });

  it('never shows the password in its description', () => {
    expect(driver().describe).not.toContain(PASSWORD);
  });
});

describe('pickResetType', () => {
  it.each<[Parameters<typeof pickResetType>[0], string[] | undefined, string | undefined]>([
    ['reset', undefined, 'ForceRestart'],
    ['reset', ['PowerCycle', 'On'], 'PowerCycle'],
    ['off', ['ForceOff'], 'ForceOff'],
    ['on', ['ForceOn'], 'ForceOn'],
    ['off', ['On'], undefined],
  ])('%s with %j -> %s', (action, allowed, expected) => {
    expect(pickResetType(action, allowed)).toBe(expected);
  });
});
