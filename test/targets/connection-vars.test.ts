import { describe, expect, it } from 'vitest';
import { ansibleBoolean, connectionVars, connectionVarsOf } from '../../src/targets/connection-vars.js';
import { ConfigError } from '../../src/core/config-error.js';

const at = (line: number) => ({ file: 'hosts.yml', line, column: 7 });
const host = (vars: Record<string, unknown>, name = 'hv01.example') => ({
  name,
  vars,
  origin: { file: 'hosts.yml', line: 1, column: 5 },
  varOrigins: Object.fromEntries(Object.keys(vars).map((k, i) => [k, at(i + 2)])),
});
const errors = (vars: Record<string, unknown>, name?: string) => {
  try {
    connectionVars(host(vars, name));
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  return [];
};

describe('connectionVars', () => {
  it('defaults to the inventory name, port 22 and no become', () => {
    const c = connectionVars(host({}));
    expect(c.address).toEqual({ value: 'hv01.example', origin: { file: 'hosts.yml', line: 1, column: 5 } });
    expect(c.port.value).toBe(22);
    expect(c.become.value).toBe(false);
    expect(c.user).toBeUndefined();
  });

  it("reads Ansible's names and says where each value came from", () => {
    const c = connectionVars(
      host({
        ansible_host: '10.0.0.11',
        ansible_port: '2222',
        ansible_user: 'ops',
        ansible_ssh_private_key_file: '~/.ssh/id',
        ansible_become: 'yes',
      }),
    );
    expect(c.address).toEqual({ value: '10.0.0.11', from: 'ansible_host', origin: at(2) });
    expect(c.port).toEqual({ value: 2222, from: 'ansible_port', origin: at(3) });
    expect(c.user?.value).toBe('ops');
    expect(c.keyFiles?.value).toEqual(['~/.ssh/id']);
    expect(c.become.value).toBe(true);
  });

  it("lets rollgate's own names win over Ansible's", () => {
    const c = connectionVars(
      host({
        ansible_host: '10.0.0.11',
        rollgate_host: '10.0.0.12',
        rollgate_key_file: ['a', 'b'],
        ansible_ssh_private_key_file: 'c',
        rollgate_known_hosts_file: '/k',
      }),
    );
    expect(c.address.value).toBe('10.0.0.12');
    expect(c.address.from).toBe('rollgate_host');
    expect(c.keyFiles?.value).toEqual(['a', 'b']);
    expect(c.knownHostsFile?.value).toBe('/k');
  });

  it('refuses a host with an empty or null address, at the variable', () => {
    expect(errors({ ansible_host: '' })).toEqual([
      'hosts.yml:2:7: host `hv01.example`: ansible_host is an empty string. write the host name or IP address to connect to, e.g. `ansible_host: 10.0.0.11`, or remove it to connect to `hv01.example`',
    ]);
    expect(errors({ ansible_host: null })[0]).toMatch(
      /^hosts\.yml:2:7: host `hv01\.example`: ansible_host is empty\. /,
    );
  });

  it('refuses a host whose name cannot be an address when no address is set', () => {
    expect(errors({}, 'my host')).toEqual([
      'hosts.yml:1:5: host `my host` has no address: its name is not a host name or IP address. set `ansible_host:` to the address to connect to',
    ]);
  });

  it('refuses ports that are not whole numbers from 1 to 65535', () => {
    for (const port of [0, 70000, 'ssh', 22.5, true])
      expect(errors({ ansible_port: port })[0]).toMatch(
        /^hosts\.yml:2:7: host `hv01\.example`: ansible_port is .*, not a TCP port\. write a whole number from 1 to 65535/,
      );
  });

  it('reports every bad value at once', () => {
    expect(
      errors({
        ansible_user: 5,
        ansible_become: 'maybe',
        rollgate_key_file: [],
        rollgate_power: { driver: 'ipmy', password: 'secret' },
      }),
    ).toEqual([
      'hosts.yml:2:7: host `hv01.example`: ansible_user is 5. write the login user name, e.g. `ansible_user: ops`',
      'hosts.yml:4:7: host `hv01.example`: rollgate_key_file is an empty list. write the path of a private key file, e.g. `rollgate_key_file: ~/.ssh/id_ed25519`',
      'hosts.yml:3:7: host `hv01.example`: ansible_become is "maybe", not true or false. write `ansible_become: true` or `ansible_become: false`',
      'hosts.yml:5:7: host `hv01.example`: rollgate_power is a mapping without a known driver. write a mapping with `driver:` one of qmp, ipmi, redfish, none, e.g. `rollgate_power: {driver: ipmi, host: 10.0.0.5, user: admin, password_env: IPMI_PASSWORD}`',
    ]);
  });

  it('refuses templated connection values it cannot expand', () => {
    expect(errors({ ansible_host: '{{ inventory_hostname }}.mgmt' })[0]).toMatch(
      /is a template, which rollgate does not expand/,
    );
  });
});

describe('ansibleBoolean', () => {
  it("reads the words Ansible's boolean() reads", () => {
    expect(['yes', 'On', 'TRUE', '1', 1, true, 'y'].map(ansibleBoolean)).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['no', 'off', 'False', '0', 0, false, 'n'].map(ansibleBoolean)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(['maybe', 2, null, {}].map(ansibleBoolean)).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe('connectionVarsOf', () => {
  it('collects the problems of every host into one error', () => {
    try {
      connectionVarsOf([
        host({ ansible_port: 0 }, 'a.example'),
        host({}, 'ok.example'),
        host({ ansible_host: '' }, 'b.example'),
      ]);
      expect.fail('should throw');
    } catch (err) {
      expect((err as ConfigError).problems.map((p) => p.message)).toEqual([
        'host `a.example`: ansible_port is 0, not a TCP port',
        'host `b.example`: ansible_host is an empty string',
      ]);
    }
  });
});
