import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTarget, resolveTargets, type TargetHost } from '../../src/targets/resolve-target.js';
import { parseSshConfig } from '../../src/targets/ssh-config.js';
import { ConfigError } from '../../src/core/config-error.js';

let dir: string;
let home: string;
let key: string;
let encrypted: string;
const at = (line: number, column = 5) => ({ file: 'inventory/hosts.yml', line, column });

function host(name: string, vars: Record<string, unknown>, varLines: Record<string, number> = {}): TargetHost {
  const varOrigins = Object.fromEntries(Object.entries(varLines).map(([k, line]) => [k, at(line)]));
  return { name, vars, origin: at(1, 3), varOrigins };
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected a ConfigError');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rg-resolve-'));
  home = join(dir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  key = join(dir, 'id_plain');
  encrypted = join(dir, 'id_secret');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'correct horse', '-f', encrypted]);
});

const base = () => ({ home, agentSocket: '', localUser: 'me', globalKnownHostsFiles: [], cwd: dir });

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveTarget', () => {
  it('takes address, port, user, key, become and known_hosts from Ansible connection vars', () => {
    const t = resolveTarget(
      host('hv01', {
        ansible_host: '10.0.0.5',
        ansible_port: '2222',
        ansible_user: 'ops',
        ansible_ssh_private_key_file: 'id_plain',
        ansible_become: 'yes',
        rollgate_known_hosts_file: 'kh',
      }),
      base(),
    );
    expect(t).toMatchObject({
      name: 'hv01',
      address: '10.0.0.5',
      port: 2222,
      user: 'ops',
      identityFiles: [key],
      become: true,
      knownHostsFiles: [join(dir, 'kh')],
      hostKeyPolicy: 'strict',
    });
  });

  it('lets rollgate_* names win over ansible_* ones', () => {
    const t = resolveTarget(
      host('hv01', { ansible_host: '10.0.0.5', rollgate_host: '10.0.0.6', ansible_ssh_private_key_file: key }),
      base(),
    );
    expect(t.address).toBe('10.0.0.6');
  });

  it('fills what the inventory leaves out from ssh config, matched on the address, and expands %h', () => {
    const sshConfig = parseSshConfig(
      [
        `Host hv* !hv99`,
        `  HostName %h.lab.internal`,
        `  User cfguser`,
        `  Port 2200`,
        `  IdentityFile ${key}`,
        `  UserKnownHostsFile ~/.ssh/lab_known`,
        `  StrictHostKeyChecking accept-new`,
        `Host *`,
        `  User fallback`,
      ].join('\n'),
      'ssh_config',
    );
    const t = resolveTarget(host('hv07', {}), { ...base(), sshConfig });
    expect(t).toMatchObject({
      address: 'hv07.lab.internal',
      user: 'cfguser',
      port: 2200,
      identityFiles: [key],
      knownHostsFiles: [join(home, '.ssh/lab_known')],
      hostKeyPolicy: 'accept-new',
    });
    const other = resolveTarget(
      host('hv99', { ansible_port: 22, ansible_user: 'inv', ansible_ssh_private_key_file: key }),
      { ...base(), sshConfig },
    );
    expect(other).toMatchObject({
      address: 'hv99',
      user: 'inv',
      port: 22,
      knownHostsFiles: [join(home, '.ssh/known_hosts')],
      hostKeyPolicy: 'strict',
    });
  });

  it('builds a ProxyJump chain from ssh config, the first hop through its own ProxyJump', () => {
    const sshConfig = parseSshConfig(
      [
        `Host inner`,
        `  HostName 10.1.0.1`,
        `  User jumper`,
        `  ProxyJump outer:2022`,
        `Host outer`,
        `  HostName 192.0.2.1`,
        `Host hv*`,
        `  ProxyJump inner,ops@middle`,
        `Host *`,
        `  IdentityFile ${key}`,
      ].join('\n'),
      'ssh_config',
    );
    const t = resolveTarget(host('hv01', { rollgate_known_hosts_file: '/kh' }), { ...base(), sshConfig });
    expect(t.proxyJump).toMatchObject({ name: 'middle', user: 'ops', address: 'middle', knownHostsFiles: ['/kh'] });
    expect(t.proxyJump?.proxyJump).toMatchObject({ name: 'inner', address: '10.1.0.1', user: 'jumper' });
    expect(t.proxyJump?.proxyJump?.proxyJump).toMatchObject({ name: 'outer', address: '192.0.2.1', port: 2022 });
    expect(t.proxyJump?.proxyJump?.proxyJump?.proxyJump).toBeUndefined();
  });

  it('reports a ProxyJump loop instead of recursing', () => {
    const sshConfig = parseSshConfig(
      [`Host *`, `  ProxyJump bastion`, `  IdentityFile ${key}`].join('\n'),
      'ssh_config',
    );
    expect(problemsOf(() => resolveTarget(host('hv01', {}), { ...base(), sshConfig }))[0]).toMatch(
      /longer than 8 hops.*Host \* !bastion/,
    );
  });

  it('turns on accept-new from the CLI, but never lets a var switch checking off entirely', () => {
    expect(
      resolveTarget(host('h', { ansible_ssh_private_key_file: key }), { ...base(), acceptNewHostKeys: true })
        .hostKeyPolicy,
    ).toBe('accept-new');
    expect(
      resolveTarget(host('h', { ansible_ssh_private_key_file: key, ansible_host_key_checking: false }), base())
        .hostKeyPolicy,
    ).toBe('accept-new');
  });

  it('names file:line:col of a missing key file and of a host without an address', () => {
    const problems = problemsOf(() =>
      resolveTargets(
        [
          host('hv01', { ansible_ssh_private_key_file: '/nope/id_ed25519' }, { ansible_ssh_private_key_file: 7 }),
          host('hv02', { ansible_host: '', ansible_ssh_private_key_file: key }, { ansible_host: 9 }),
          host('bad name', { ansible_ssh_private_key_file: key }),
        ],
        base(),
      ),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^inventory\/hosts\.yml:7:5: host `hv01`: key file \/nope\/id_ed25519 \(ansible_ssh_private_key_file\) does not exist\. write the path/,
      ),
      expect.stringMatching(
        /^inventory\/hosts\.yml:9:5: host `hv02`: ansible_host is an empty string.*`ansible_host: 10\.0\.0\.11`/,
      ),
      expect.stringMatching(/^inventory\/hosts\.yml:1:3: host `bad name` has no address.*set `ansible_host:`/),
    ]);
  });

  it('refuses an encrypted key without an agent, and accepts it when an agent can stand in', () => {
    const h = host('hv01', { ansible_ssh_private_key_file: encrypted }, { ansible_ssh_private_key_file: 4 });
    expect(problemsOf(() => resolveTarget(h, base()))[0]).toMatch(/:4:5: .*protected by a passphrase.*ssh-add/);
    expect(resolveTarget(h, { ...base(), agentSocket: '/run/agent.sock' })).toMatchObject({
      identityFiles: [encrypted],
      agentSocket: '/run/agent.sock',
    });
  });

  it('reports a host with no credential at all, and bad ports, users, become and connection values', () => {
    expect(problemsOf(() => resolveTarget(host('hv01', {}), base()))[0]).toMatch(/no SSH key to log in with/);
    const problems = problemsOf(() =>
      resolveTarget(
        host('hv01', {
          ansible_ssh_private_key_file: key,
          ansible_port: 70000,
          ansible_user: '',
          ansible_become: 'maybe',
          ansible_connection: 'local',
          ansible_become_method: 'doas',
          rollgate_become: true,
        }),
        base(),
      ),
    );
    expect(problems.join('\n')).toMatch(/rollgate only connects over SSH/);
    expect(problems.join('\n')).toMatch(/ansible_port is 70000, not a TCP port/);
    expect(problems.join('\n')).toMatch(/ansible_user is an empty string/);
    expect(problems.join('\n')).toMatch(
      /ansible_become_method is "doas"; rollgate becomes another user through sudo or su/,
    );
    expect(problems).toHaveLength(4); // rollgate_become wins, so ansible_become: maybe is never read
  });

  it('takes su as the become method, and refuses a become user that su or sudo would read as an option', () => {
    expect(
      resolveTarget(
        host('hv01', {
          ansible_become_method: 'su',
          ansible_become_user: 'app',
          ansible_ssh_private_key_file: 'id_plain',
        }),
        base(),
      ),
    ).toMatchObject({ becomeMethod: 'su', becomeUser: 'app', become: false });
    const problems = problemsOf(() =>
      resolveTarget(
        host(
          'hv01',
          { ansible_become_user: '-c id', ansible_ssh_private_key_file: 'id_plain' },
          { ansible_become_user: 9 },
        ),
        base(),
      ),
    );
    expect(problems.join('\n')).toMatch(
      /hosts.yml:9:5: .*ansible_become_user is "-c id": a user name cannot start with -/,
    );
  });

  it('takes ProxyJump, known_hosts and StrictHostKeyChecking from ansible_ssh_common_args, and refuses ProxyCommand', () => {
    const sshConfig = parseSshConfig([`Host *`, `  IdentityFile ${key}`].join('\n'), 'ssh_config');
    const t = resolveTarget(
      host('hv01', {
        ansible_ssh_common_args: `-o StrictHostKeyChecking=accept-new -o 'UserKnownHostsFile=~/kh' -J ops@bastion:2200`,
      }),
      { ...base(), sshConfig },
    );
    expect(t).toMatchObject({
      hostKeyPolicy: 'accept-new',
      knownHostsFiles: [join(home, 'kh')],
      proxyJump: { name: 'bastion', user: 'ops', port: 2200 },
    });
    const problems = problemsOf(() =>
      resolveTarget(
        host(
          'hv01',
          { ansible_ssh_common_args: '-o ProxyCommand="ssh -W %h:%p bastion"' },
          { ansible_ssh_common_args: 3 },
        ),
        { ...base(), sshConfig },
      ),
    );
    expect(problems).toEqual([
      expect.stringMatching(/:3:5: host `hv01`: ansible_ssh_common_args: ProxyCommand is not supported.*-o ProxyJump=/),
    ]);
  });

  it('falls back to OpenSSH default key files and ~/.ssh/known_hosts plus the global file', () => {
    execFileSync('cp', [key, join(home, '.ssh', 'id_ed25519')]);
    const t = resolveTarget(host('hv01', {}), { ...base(), globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts'] });
    expect(t.identityFiles).toEqual([join(home, '.ssh', 'id_ed25519')]);
    expect(t.knownHostsFiles).toEqual([join(home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts']);
    expect(t.user).toBe('me');
  });
});
