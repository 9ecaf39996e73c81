import { describe, expect, it } from 'vitest';
import { powerDriverFor, powerDriversFor } from '../../src/power/index.js';
import { ConfigError } from '../../src/core/config-error.js';

const env = { BMC_PASSWORD: 'hunter2-secret', IPMI_PASSWORD: 'ipmi-secret' };
const locate = (host: string, path: string[]) => ({
  file: `inventory/host_vars/${host}.yml`,
  line: 3 + path.length,
  column: 3,
});

function problems(vars: Record<string, unknown>): string[] {
  try {
    powerDriverFor({ name: 'hv1', vars }, { env, locate });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).not.toContain('hunter2-secret');
    return (err as ConfigError).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('powerDriverFor', () => {
  it('has no driver when the inventory names none (a host that never comes back then needs a person)', () => {
    expect(powerDriverFor({ name: 'hv1', vars: {} })).toBeNull();
    expect(powerDriverFor({ name: 'hv1', vars: { rollgate_power: { driver: 'none' } } })).toBeNull();
  });

  it('builds an ipmi driver with the password from the named variable', () => {
    const d = powerDriverFor(
      {
        name: 'hv1',
        vars: {
          rollgate_power: {
            driver: 'ipmi',
            host: '10.0.0.5',
            user: 'admin',
            password_env: 'IPMI_PASSWORD',
            cipher_suite: 17,
          },
        },
      },
      { env },
    );
    expect(d?.kind).toBe('ipmi');
    expect(d?.describe).toBe('ipmi admin@10.0.0.5 (password from $IPMI_PASSWORD)');
  });

  it('builds a redfish driver, TLS verified unless told otherwise', () => {
    const d = powerDriverFor(
      {
        name: 'hv1',
        vars: {
          rollgate_power: { driver: 'redfish', url: 'https://bmc1', user: 'root', password_env: 'BMC_PASSWORD' },
        },
      },
      { env },
    );
    expect(d?.describe).toBe('redfish root@bmc1 (password from $BMC_PASSWORD)');
    const insecure = powerDriverFor(
      {
        name: 'hv1',
        vars: {
          rollgate_power: {
            driver: 'redfish',
            url: 'https://bmc1',
            user: 'root',
            password_env: 'BMC_PASSWORD',
            verify_tls: false,
          },
        },
      },
      { env },
    );
    expect(insecure?.describe).toContain('TLS not verified');
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'an unknown driver',
      { driver: 'ilo' },
      ['inventory/host_vars/hv1.yml:5:3: host hv1: unknown power driver "ilo". write one of: qmp, ipmi, redfish, none'],
    ],
    [
      'a password written in the inventory',
      {
        driver: 'redfish',
        url: 'https://bmc1',
        user: 'root',
        password: 'hunter2-secret',
        password_env: 'BMC_PASSWORD',
      },
      [
        'inventory/host_vars/hv1.yml:5:3: host hv1: a BMC password is written in the inventory. remove it and name an environment variable instead: `password_env: BMC_PASSWORD`',
      ],
    ],
    [
      'an unset password variable',
      { driver: 'ipmi', host: 'bmc1', user: 'admin', password_env: 'NOT_SET_ANYWHERE' },
      [
        "inventory/host_vars/hv1.yml:5:3: host hv1: environment variable NOT_SET_ANYWHERE (rollgate_power.password_env) is not set. export NOT_SET_ANYWHERE=... in the controller's environment before the run",
      ],
    ],
    [
      'missing options, every one listed',
      { driver: 'ipmi', port: 'x' },
      [
        'inventory/host_vars/hv1.yml:5:3: host hv1: rollgate_power has no `host`. add `host: <BMC address>`',
        'inventory/host_vars/hv1.yml:5:3: host hv1: rollgate_power has no `user`. add `user: <BMC user>`',
        'inventory/host_vars/hv1.yml:5:3: host hv1: rollgate_power has no `password_env` naming the environment variable that holds the password. add e.g. `password_env: BMC_PASSWORD` and export BMC_PASSWORD before the run',
        'inventory/host_vars/hv1.yml:5:3: host hv1: rollgate_power.port is not a port number. e.g. `port: 623`',
      ],
    ],
    [
      'a bad redfish URL and auth',
      {
        driver: 'redfish',
        url: 'bmc1',
        user: 'root',
        password_env: 'BMC_PASSWORD',
        auth: 'kerberos',
        ca_file: '/nonexistent/ca.pem',
      },
      [
        'inventory/host_vars/hv1.yml:5:3: host hv1: rollgate_power.url "bmc1" is not an http(s) URL. e.g. `url: https://10.0.0.5`',
        'inventory/host_vars/hv1.yml:5:3: host hv1: rollgate_power.auth "kerberos" is not an auth method. write `basic` or `session`',
        'inventory/host_vars/hv1.yml:5:3: host hv1: cannot read ca_file /nonexistent/ca.pem: ENOENT. give the path of a PEM file on the controller',
      ],
    ],
  ])('refuses %s with the place and a fix', (_title, cfg, expected) => {
    expect(problems({ rollgate_power: cfg })).toEqual(expected);
  });

  it('collects the problems of every host in one error', () => {
    let caught: unknown;
    try {
      powerDriversFor(
        [
          { name: 'a', vars: { rollgate_power: { driver: 'x' } } },
          { name: 'b', vars: {} },
          { name: 'c', vars: { rollgate_power: 'ipmi' } },
        ],
        { env },
      );
    } catch (err) {
      caught = err;
    }
    expect((caught as ConfigError).problems.map((p) => p.message)).toEqual([
      'host a: unknown power driver "x"',
      'host c: rollgate_power must be a mapping',
    ]);
  });
});
