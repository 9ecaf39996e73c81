/**
 * Become with a password, on real sshd with a real sudo that asks (FLEET_SUDO_PW_USER: `ALL=(ALL) ALL`): the
 * password is written only to a sudo that prompts, never on a command line; the command's own standard input
 * arrives byte for byte after it; a wrong password, a user who may not sudo and a sudo that wants a password
 * nobody gave are three distinct errors; every way of giving it (--become-password-file, -K, the inventory's
 * ansible_become_password plain or templated, rollgate_become_password_env) works; and the planted password
 * (shell-hostile on purpose) appears in no output and not in the journal's bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BecomePassword } from '../../src/connection/become-password.js';
import { ConnectionError } from '../../src/connection/connection.js';
import { SshConnection } from '../../src/connection/ssh.js';
import {
  FLEET_ADMIN_USER,
  FLEET_NO_SUDO_PW_USER,
  FLEET_SUDO_PASSWORD,
  FLEET_SUDO_PW_USER,
  removeFleetDir,
  startSshdFleet,
  type SshdFleet,
} from '../../src/lab/sshd-fleet.js';
import { ensureBuilt, rollgate, type CliRun } from './support/cli.js';
import { hostTarget, tempDir } from './support/ssh-fleet.js';

let fleet: SshdFleet;
let dir: string;
const noAgent = { SSH_AUTH_SOCK: '' };
const password = (value = FLEET_SUDO_PASSWORD) => new BecomePassword(value, 'the test');
const asUser = (user: string, pw?: BecomePassword) =>
  hostTarget(fleet, fleet.hosts[0]!, { user, become: true, ...(pw ? { becomePassword: pw } : {}) });

beforeAll(async () => {
  ensureBuilt();
  dir = tempDir('become-pw');
  chmodSync(dir, 0o755);
  fleet = await startSshdFleet({ count: 2, dir });
});
afterAll(async () => {
  await fleet?.stop();
  removeFleetDir(dir);
});

async function withConn<T>(target: ReturnType<typeof asUser>, fn: (c: SshConnection) => Promise<T>): Promise<T> {
  const conn = await SshConnection.open(target);
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

/** Command lines of live processes holding `needle`. */
function commandLinesWith(needle: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const line = readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return line.includes(needle) ? [line.replace(/\0/g, ' ')] : [];
      } catch {
        return [];
      }
    });
}

describe('sudo with a password, on a connection', () => {
  it('runs as root once sudo has the password; the command reads its own input byte for byte', async () => {
    const payload = `first line\n${'é€x'.repeat(100_000)}\nend`;
    await withConn(asUser(FLEET_SUDO_PW_USER, password()), async (conn) => {
      expect(await conn.exec('id -u')).toMatchObject({ exitCode: 0, stdout: '0\n' });
      const sum = await conn.exec('sha256sum | cut -d" " -f1', { stdin: payload });
      expect(sum.stdout.trim()).toBe(createHash('sha256').update(payload, 'utf8').digest('hex'));
      // The command's failure stays the command's: exit 3, not a become error.
      expect(await conn.exec('echo why >&2; exit 3')).toMatchObject({ exitCode: 3, stderr: 'why\n' });
    });
  });

  it('never puts the password on a command line, and never feeds it to a sudo that does not ask', async () => {
    await withConn(asUser(FLEET_SUDO_PW_USER, password()), async (conn) => {
      const running = conn.exec('sleep 3; echo done');
      await sleep(1500);
      expect(commandLinesWith('pl4nted')).toEqual([]);
      expect((await running).stdout).toBe('done\n');
    });
    // NOPASSWD: sudo never prompts, so the command's input is its own, with no password line before it.
    await withConn(asUser(FLEET_ADMIN_USER, password()), async (conn) => {
      expect(await conn.exec('id -u; cat', { stdin: 'input\n' })).toMatchObject({ exitCode: 0, stdout: '0\ninput\n' });
    });
  });

  it('tells a wrong password, a user who may not sudo and a missing password apart', async () => {
    const attempt = (target: ReturnType<typeof asUser>) =>
      withConn(target, (c) => c.exec('id -u')).then(
        () => undefined,
        (e: unknown) => e,
      );
    const wrong = await attempt(asUser(FLEET_SUDO_PW_USER, password('not-the-password')));
    expect(wrong).toBeInstanceOf(ConnectionError);
    expect(wrong).toMatchObject({
      kind: 'become',
      message: expect.stringMatching(/sudo did not accept the become password for user rgsudopw \(the test\)/),
    });
    const noRights = await attempt(asUser(FLEET_NO_SUDO_PW_USER, password()));
    expect(noRights).toMatchObject({
      kind: 'become',
      message: expect.stringMatching(
        /sudo refused to run the command as root for user rgnosudo \(.*not in the sudoers/,
      ),
    });
    expect((noRights as Error).message).not.toContain('rollgate-sudo'); // sudo's prompt is not its reason
    const none = await attempt(asUser(FLEET_SUDO_PW_USER));
    expect(none).toMatchObject({
      kind: 'become',
      message: expect.stringMatching(/sudo -n refused .* for user rgsudopw .*--ask-become-pass/),
    });
  });

  it('a command timed out under sudo with a password does not live on', async () => {
    await withConn(asUser(FLEET_SUDO_PW_USER, password()), async (conn) => {
      await expect(conn.exec('sleep 41.5', { timeoutMs: 2000 })).rejects.toMatchObject({ kind: 'timeout' });
    });
    for (let i = 0; i < 50 && commandLinesWith('sleep\u000041.5').length > 0; i++) await sleep(100);
    expect(commandLinesWith('sleep 41.5')).toEqual([]);
  });
});

/** An inventory of both fleet hosts logging in as `user`, with `vars` (YAML lines) for the group. */
function inventory(name: string, user: string, vars: string[] = []): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    [
      'all:',
      '  vars:',
      '    ansible_host: 127.0.0.1',
      `    ansible_user: ${user}`,
      `    ansible_ssh_private_key_file: ${fleet.clientKey}`,
      `    rollgate_known_hosts_file: ${fleet.knownHosts}`,
      ...vars.map((v) => `    ${v}`),
      '  hosts:',
      ...fleet.hosts.map((h) => `    ${h.name}:\n      ansible_port: ${h.port}`),
      '',
    ].join('\n'),
  );
  return path;
}

const yamlString = (s: string) => JSON.stringify(s);
const leaked = (...runs: CliRun[]) => runs.some((r) => (r.stdout + r.stderr).includes(FLEET_SUDO_PASSWORD));

describe('giving sudo its password, on the command line and in the inventory', () => {
  it('--become-password-file, -K, ansible_become_password (plain and templated) and rollgate_become_password_env', async () => {
    const file = join(dir, 'sudo-pw');
    writeFileSync(file, `${FLEET_SUDO_PASSWORD}\n`, { mode: 0o600 });
    // Ansible's meaning for an executable password file: what it prints (a secrets manager's client script).
    const script = join(dir, 'sudo-pw-client');
    writeFileSync(script, `#!/bin/sh\ncat <<'PW'\n${FLEET_SUDO_PASSWORD}\nPW\n`, { mode: 0o700 });
    const plain = inventory('plain.yml', FLEET_SUDO_PW_USER);
    const runs: Record<string, CliRun> = {
      file: await rollgate(['exec', '-i', plain, '--become', '--become-password-file', file, '--', 'id -u'], noAgent),
      script: await rollgate(
        ['exec', '-i', plain, '--become', '--become-password-file', script, '--', 'id -u'],
        noAgent,
      ),
      ask: await rollgate(['exec', '-i', plain, '--become', '-K', '--', 'id -u'], noAgent, `${FLEET_SUDO_PASSWORD}\n`),
      inventory: await rollgate(
        [
          'exec',
          '-i',
          inventory('pw.yml', FLEET_SUDO_PW_USER, [`ansible_become_password: ${yamlString(FLEET_SUDO_PASSWORD)}`]),
          '--become',
          '--',
          'id -u',
        ],
        noAgent,
      ),
      templated: await rollgate(
        [
          'exec',
          '-i',
          inventory('templated.yml', FLEET_SUDO_PW_USER, [
            `ansible_become_pass: "{{ vault_sudo }}"`,
            `vault_sudo: ${yamlString(FLEET_SUDO_PASSWORD)}`,
          ]),
          '--become',
          '--',
          'id -u',
        ],
        noAgent,
      ),
      env: await rollgate(
        [
          'exec',
          '-i',
          inventory('env.yml', FLEET_SUDO_PW_USER, ['rollgate_become_password_env: RG_TEST_SUDO']),
          '--become',
          '--',
          'id -u',
        ],
        { ...noAgent, RG_TEST_SUDO: FLEET_SUDO_PASSWORD },
      ),
    };
    for (const [how, run] of Object.entries(runs)) {
      expect(run.code, `${how}: ${run.stderr}${run.stdout}`).toBe(0);
      expect(run.stdout.match(/\| ok \| rc=0/g), how).toHaveLength(2);
      expect(run.stdout, how).toMatch(/^0$/m);
    }
    expect(runs.ask!.stderr).toContain('BECOME password: ');
    expect(leaked(...Object.values(runs))).toBe(false);
  });

  it('-K with --ask-vault-pass on a piped standard input: each prompt takes its own line', async () => {
    const vaultPw = join(dir, 'vault-pw');
    writeFileSync(vaultPw, 'vault-pass-typed\n', { mode: 0o600 });
    const out = execFileSync('ansible-vault', ['encrypt_string', '--vault-password-file', vaultPw, 'a-vaulted-note'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const vaulted = inventory('vaulted.yml', FLEET_SUDO_PW_USER, [
      `vaulted_note: ${out.slice(out.indexOf('!vault')).trimEnd()}`,
    ]);
    // Both answers arrive in one chunk, as `printf 'vault\nsudo\n' | rollgate ...` gives them.
    const run = await rollgate(
      ['exec', '-i', vaulted, '--ask-vault-pass', '--become', '-K', '--', 'id -u'],
      noAgent,
      `vault-pass-typed\n${FLEET_SUDO_PASSWORD}\n`,
    );
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout.match(/\| ok \| rc=0/g)).toHaveLength(2);
    expect(run.stderr).toContain('Vault password');
    expect(run.stderr).toContain('BECOME password: ');
    expect(leaked(run)).toBe(false);
  });

  it('a wrong password fails every host as a become error, without showing the password typed', async () => {
    const run = await rollgate(
      ['exec', '-i', inventory('wrong.yml', FLEET_SUDO_PW_USER), '--become', '-K', '--json', '--', 'id -u'],
      noAgent,
      'Wr0ng-Typed-Pw\n',
    );
    expect(run.code).toBe(1);
    const hosts = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; status?: string; kind?: string; message?: string })
      .filter((l) => l.type === 'host');
    expect(hosts).toHaveLength(2);
    for (const h of hosts)
      expect(h).toMatchObject({
        status: 'failed',
        kind: 'become',
        message: expect.stringContaining(
          'sudo did not accept the become password for user rgsudopw (--ask-become-pass)',
        ),
      });
    expect(run.stdout + run.stderr).not.toContain('Wr0ng-Typed-Pw');
  });

  it('an unset password variable is refused before any host is touched, at its file:line:col', async () => {
    const inv = inventory('unset.yml', FLEET_SUDO_PW_USER, ['rollgate_become_password_env: RG_TEST_NOT_SET']);
    const before = fleet.hosts.map((h) => readFileSync(join(h.dir, 'sshd.log'), 'utf8').length);
    const run = await rollgate(['exec', '-i', inv, '--become', '--', 'id -u'], { ...noAgent, RG_TEST_NOT_SET: '' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${inv}:7:`);
    expect(run.stderr).toContain('environment variable RG_TEST_NOT_SET (rollgate_become_password_env) is empty');
    expect(run.stderr).toContain('export RG_TEST_NOT_SET');
    expect(fleet.hosts.map((h) => readFileSync(join(h.dir, 'sshd.log'), 'utf8').length)).toEqual(before);
  });

  it('rollgate run: a become play with -K; the password is in no output and not in the journal files', async () => {
    const play = join(dir, 'become-play.yml');
    writeFileSync(
      play,
      [
        '- hosts: all',
        '  become: true',
        '  tasks:',
        '    - command: id -u',
        '    - name: a host that prints the password back',
        '      command: cat /etc/rg-become-echo',
        '      register: echoed',
        '    - debug: { msg: "the host said {{ echoed.stdout }}" }',
        '',
      ].join('\n'),
    );
    const echoFile = '/etc/rg-become-echo';
    writeFileSync(echoFile, `${FLEET_SUDO_PASSWORD}\n`, { mode: 0o600 });
    const journal = join(dir, 'journal.db');
    try {
      const run = await rollgate(
        ['run', play, '-i', inventory('run.yml', FLEET_SUDO_PW_USER), '--journal', journal, '-K', '--json'],
        noAgent,
        `${FLEET_SUDO_PASSWORD}\n`,
      );
      expect(run.code, run.stderr + run.stdout).toBe(0);
      expect(run.stdout).toContain('the host said [redacted]');
      expect(leaked(run)).toBe(false);
      for (const suffix of ['', '-wal', '-shm'].filter((s) => existsSync(journal + s)))
        expect(readFileSync(journal + suffix).includes(FLEET_SUDO_PASSWORD), `journal${suffix}`).toBe(false);
    } finally {
      rmSync(echoFile, { force: true });
    }
  });
});

describe('a vault-encrypted become password (the form of inventory/group_vars/cluster_fra_b.yml)', () => {
  const vaultPw = join(import.meta.dirname, '..', '..', 'inventory', 'vault-password.example.txt');
  /** `name: !vault |` lines made by the real ansible-vault with the example inventory's vault password. */
  const vaulted = (name: string, secret: string) => {
    const out = execFileSync(
      'ansible-vault',
      ['encrypt_string', '--vault-password-file', vaultPw, '--name', name, secret],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return out.trimEnd().split('\n');
  };
  const sshdLogs = () => fleet.hosts.map((h) => readFileSync(join(h.dir, 'sshd.log'), 'utf8').length);

  it('sudo gets the decrypted password with --vault-password-file; without it nothing is contacted, exit 2', async () => {
    const inv = inventory(
      'vaulted-become.yml',
      FLEET_SUDO_PW_USER,
      vaulted('ansible_become_password', FLEET_SUDO_PASSWORD),
    );
    const ok = await rollgate(
      ['exec', '-i', inv, '--become', '--vault-password-file', vaultPw, '--', 'id -u'],
      noAgent,
    );
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    expect(ok.stdout.match(/\| ok \| rc=0/g)).toHaveLength(2);
    expect(ok.stdout).toMatch(/^0$/m);

    const before = sshdLogs();
    const locked = await rollgate(['exec', '-i', inv, '--become', '--', 'id -u'], noAgent);
    expect(locked.code).toBe(2);
    // The value's line (the `vars:` block's 5th line, after `all:` and `vars:`) and the options that open it.
    expect(locked.stderr).toContain(
      `${inv}:7:30: host \`${fleet.hosts[0]!.name}\`: ansible_become_password: this !vault value is encrypted with ansible-vault and no vault password was given. pass --vault-password-file FILE`,
    );
    expect(sshdLogs()).toEqual(before);
    // Listing needs no vault password and shows the vault data, as ansible-inventory does.
    const list = await rollgate(['inventory', '-i', inv, '--host', fleet.hosts[0]!.name]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('"__ansible_vault": "$ANSIBLE_VAULT;1.1;AES256\\n');
    expect(leaked(ok, locked, list)).toBe(false);
  }, 120_000);

  it('a play templating a vaulted variable gets its plaintext; without the password the task fails naming the value', async () => {
    const inv = inventory('vaulted-var.yml', FLEET_ADMIN_USER, vaulted('api_token', 'tok-4417-vaulted'));
    const play = join(dir, 'vaulted-play.yml');
    writeFileSync(
      play,
      ['- hosts: all', '  tasks:', '    - command: test {{ api_token }} = tok-4417-vaulted', ''].join('\n'),
    );
    const journal = ['--journal', join(dir, 'vaulted-journal.db')];
    const ok = await rollgate(['run', play, '-i', inv, ...journal, '--vault-password-file', vaultPw], noAgent);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    const locked = await rollgate(['run', play, '-i', inv, ...journal], noAgent);
    expect({ code: locked.code, out: locked.stdout + locked.stderr }).toMatchObject({
      code: 1,
      out: expect.stringContaining(
        `this !vault value is encrypted with ansible-vault and no vault password was given: pass --vault-password-file FILE`,
      ),
    });
    expect(locked.stdout + locked.stderr).toContain(`(in variable \`api_token\` defined at ${inv}:7:`);
    expect((ok.stdout + ok.stderr + locked.stdout + locked.stderr).includes('tok-4417-vaulted')).toBe(false);
  }, 120_000);
});
