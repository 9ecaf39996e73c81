/**
 * Become through su (`ansible_become_method: su`), on real sshd with a real su that asks: the fleet's sshd runs in
 * a private mount namespace with a test /etc/shadow giving root a known (shell-hostile) password, so the machine's
 * own file never changes. A command runs as root (or another user, with that user's password), its text and its
 * input arrive byte for byte and its output comes back exact; the password is on no command line and in no
 * output or journal; the private directory is gone afterwards, failures included; a wrong password, a missing su,
 * a missing user, a password nobody gave and a timeout are told apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BecomePassword } from '../../src/connection/become-password.js';
import { ConnectionError } from '../../src/connection/connection.js';
import { SshConnection } from '../../src/connection/ssh.js';
import type { SshTarget } from '../../src/connection/target.js';
import {
  FLEET_PLAIN_USER,
  FLEET_SUDO_PASSWORD,
  FLEET_SUDO_PW_USER,
  removeFleetDir,
  startSshdFleet,
  type SshdFleet,
} from '../../src/lab/sshd-fleet.js';
import { ensureBuilt, rollgate, type CliRun } from './support/cli.js';
import { hostTarget, tempDir } from './support/ssh-fleet.js';
import { shadowWithPasswords } from './support/su-shadow.js';

const ROOT_PASSWORD = `pl4nted 'su' r00t;$(id) \\ ë`;
let fleet: SshdFleet;
let dir: string;
const noAgent = { SSH_AUTH_SOCK: '' };
const pw = (value = ROOT_PASSWORD) => new BecomePassword(value, 'the test');
const su = (over: Partial<SshTarget> = {}) =>
  hostTarget(fleet, fleet.hosts[0]!, {
    user: FLEET_PLAIN_USER,
    become: true,
    becomeMethod: 'su',
    becomePassword: pw(),
    ...over,
  });

beforeAll(async () => {
  ensureBuilt();
  dir = tempDir('become-su');
  fleet = await startSshdFleet({
    count: 2,
    dir,
    etcFiles: { shadow: shadowWithPasswords(dir, { root: ROOT_PASSWORD }) },
  });
});
afterAll(async () => {
  await fleet?.stop();
  removeFleetDir(dir);
});

async function withConn<T>(target: SshTarget, fn: (c: SshConnection) => Promise<T>): Promise<T> {
  const conn = await SshConnection.open(target);
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

const attempt = (target: SshTarget, command = 'id -u', timeoutMs?: number) =>
  withConn(target, (c) => c.exec(command, timeoutMs ? { timeoutMs } : {})).then(
    () => undefined,
    (e: unknown) => e,
  );

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

/** mktemp -d directories in /tmp owned by the login user (the wrapper's private directories). */
function privateDirs(): string[] {
  const uid = Number(
    readFileSync('/etc/passwd', 'utf8').match(new RegExp(`^${FLEET_PLAIN_USER}:[^:]*:(\\d+):`, 'm'))?.[1],
  );
  return readdirSync('/tmp').filter((n) => {
    if (!n.startsWith('tmp.')) return false;
    try {
      return statSync(join('/tmp', n)).uid === uid;
    } catch {
      return false;
    }
  });
}

describe('su with a password, on a connection', () => {
  it('runs as root; a hostile command text and 300 kB of input arrive byte for byte; output comes back exact', async () => {
    const before = privateDirs();
    const input = `first line\n${'é€x\0'.repeat(75_000)}\nno final break`;
    await withConn(su(), async (conn) => {
      expect(await conn.exec('id -u; id -un')).toMatchObject({ exitCode: 0, stdout: '0\nroot\n', stderr: '' });
      const sum = await conn.exec('sha256sum | cut -d" " -f1', { stdin: input });
      expect(sum.stdout.trim()).toBe(createHash('sha256').update(input, 'utf8').digest('hex'));
      // Quotes, $( ), backslashes, a heredoc, Password: look-alikes, output without a final line break.
      const hostile = [
        `printf '%s' "it's \\"quoted\\" \\$(not run) \\\\ é"`,
        `printf '\\nPassword: \\r\\n' >&2`,
        `cat <<'EOF'`,
        `  su: Authentication failure $HOME \`id\``,
        `EOF`,
        `printf 'no break'; exit 7`,
      ].join('\n');
      expect(await conn.exec(hostile)).toMatchObject({
        exitCode: 7,
        stdout: `it's "quoted" $(not run) \\ é  su: Authentication failure $HOME \`id\`\nno break`,
        stderr: '\nPassword: \r\n',
      });
    });
    expect(privateDirs()).toEqual(before);
  });

  it('becomes another user with that user’s password; the login user root needs none (su does not ask)', async () => {
    const other = su({ becomeUser: FLEET_SUDO_PW_USER, becomePassword: pw(FLEET_SUDO_PASSWORD) });
    await withConn(other, async (conn) => {
      expect((await conn.exec('id -un; cat', { stdin: 'in' })).stdout).toBe(`${FLEET_SUDO_PW_USER}\nin`);
    });
    const asRoot = su({ user: 'root', becomeUser: FLEET_PLAIN_USER });
    delete asRoot.becomePassword;
    await withConn(asRoot, async (conn) => {
      expect((await conn.exec('id -un')).stdout).toBe(`${FLEET_PLAIN_USER}\n`);
    });
  });

  it('never puts the password on a command line', async () => {
    await withConn(su(), async (conn) => {
      const running = conn.exec('sleep 3; echo done');
      await sleep(1500);
      expect(commandLinesWith('pl4nted')).toEqual([]);
      expect(commandLinesWith('r00t')).toEqual([]);
      expect((await running).stdout).toBe('done\n');
    });
  });

  it('tells a wrong password, no su, no such user and a password nobody gave apart, and leaves no directory', async () => {
    const before = privateDirs();
    const wrong = await attempt(su({ becomePassword: pw('not-the-password') }));
    expect(wrong).toBeInstanceOf(ConnectionError);
    expect(wrong).toMatchObject({
      kind: 'become',
      message: expect.stringMatching(
        /su did not accept the become password for root \(the test\): it is wrong for this host \(su: Authentication failure\)/,
      ),
    });
    const noSu = await attempt(su({ becomeExe: '/nonexistent/su' }));
    expect(noSu).toMatchObject({ kind: 'become', message: expect.stringContaining('no /nonexistent/su on the host') });
    const noUser = await attempt(su({ becomeUser: 'rg-no-such-user' }));
    expect(noUser).toMatchObject({
      kind: 'become',
      message: expect.stringContaining('there is no user rg-no-such-user on the host'),
    });
    const none = su();
    delete none.becomePassword;
    expect(await attempt(none)).toMatchObject({
      kind: 'become',
      message: expect.stringContaining("su asks for root's password and no become password was given"),
    });
    // A flag that makes su refuse before asking (util-linux su: -s with an unknown shell is still run, so use -g).
    const refused = await attempt(su({ becomeFlags: ['-g', 'rg-no-such-group'] }));
    expect(refused).toMatchObject({ kind: 'become', message: expect.stringMatching(/su refused to run the command/) });
    for (let i = 0; i < 20 && privateDirs().length > before.length; i++) await sleep(100);
    expect(privateDirs()).toEqual(before);
  });

  it('sends the password again when it reached the terminal before su turned echo off (PAM flushed it)', async () => {
    // A stand-in for su that widens PAM's window (microseconds) to 100 ms: prompt, wait with echo on, then
    // TCSAFLUSH and read. The first copy is echoed and flushed; without the second, su would wait forever.
    const slowSu = join(dir, 'slow-su');
    const py = [
      '#!/usr/bin/python3',
      'import os, sys, termios, time',
      "sys.stdout.write('Password: '); sys.stdout.flush(); time.sleep(0.1)",
      'a = termios.tcgetattr(0); a[3] &= ~termios.ECHO; termios.tcsetattr(0, termios.TCSAFLUSH, a)',
      'line = sys.stdin.readline()',
      `if line.rstrip('\\n') != ${JSON.stringify(ROOT_PASSWORD)}: print('su: Authentication failure'); sys.exit(1)`,
      "os.execv('/bin/sh', ['sh', '-c', sys.argv[-1]])",
      '',
    ];
    writeFileSync(slowSu, py.join('\n'), { mode: 0o755 });
    await withConn(su({ becomeExe: slowSu }), async (conn) => {
      expect(await conn.exec('id -un', { timeoutMs: 15_000 })).toMatchObject({ stdout: `${FLEET_PLAIN_USER}\n` });
    });
  });

  it('quotes su’s program, flags and user: hostile values are words, never shell', async () => {
    const planted = join(dir, 'pwned');
    const hostile = `su; touch ${planted}`;
    const e = await attempt(su({ becomeExe: hostile, becomeFlags: [`$(touch ${planted})`] }));
    expect(e).toMatchObject({ kind: 'become', message: expect.stringContaining(`no ${hostile} on the host`) });
    const u = await attempt(su({ becomeUser: `root$(touch ${planted})` }));
    expect(u).toMatchObject({ kind: 'become', message: expect.stringContaining('there is no user root$(touch') });
    expect(existsSync(planted)).toBe(false);
    // Real flags reach su as words: -s picks the shell that runs the wrapper's inner command.
    await withConn(su({ becomeFlags: ['-s', '/bin/sh'] }), async (conn) => {
      expect((await conn.exec('id -u')).stdout).toBe('0\n');
    });
  });

  it('a command timed out under su does not live on, and its directory goes', async () => {
    const before = privateDirs();
    expect(await attempt(su(), 'sleep 41.7', 2500)).toMatchObject({ kind: 'timeout' });
    for (
      let i = 0;
      i < 80 && (commandLinesWith('sleep\u000041.7').length > 0 || privateDirs().length > before.length);
      i++
    )
      await sleep(100);
    expect(commandLinesWith('sleep\u000041.7')).toEqual([]);
    expect(privateDirs()).toEqual(before);
  });
});

/** An inventory of both fleet hosts logging in as rgplain and becoming root through su, plus `vars`. */
function inventory(name: string, vars: string[] = ['ansible_become_method: su']): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    [
      'all:',
      '  vars:',
      '    ansible_host: 127.0.0.1',
      `    ansible_user: ${FLEET_PLAIN_USER}`,
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

const leaked = (...runs: CliRun[]) => runs.some((r) => (r.stdout + r.stderr).includes(ROOT_PASSWORD));

describe('ansible_become_method: su from the inventory', () => {
  it('rollgate exec with -K and with ansible_become_password; a wrong one fails every host as become', async () => {
    const ask = await rollgate(
      ['exec', '-i', inventory('su.yml'), '--become', '-K', '--', 'id -u'],
      noAgent,
      `${ROOT_PASSWORD}\n`,
    );
    const inv = await rollgate(
      [
        'exec',
        '-i',
        inventory('su-pw.yml', [
          'ansible_become_method: su',
          `ansible_become_password: ${JSON.stringify(ROOT_PASSWORD)}`,
        ]),
        '--become',
        '--',
        'id -u',
      ],
      noAgent,
    );
    for (const run of [ask, inv]) {
      expect(run.code, run.stderr + run.stdout).toBe(0);
      expect(run.stdout.match(/\| ok \| rc=0/g)).toHaveLength(2);
      expect(run.stdout).toMatch(/^0$/m);
    }
    const wrong = await rollgate(
      ['exec', '-i', inventory('su.yml'), '--become', '-K', '--json', '--', 'id -u'],
      noAgent,
      'Wr0ng-Typed-Pw\n',
    );
    expect(wrong.code).toBe(1);
    const hosts = wrong.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; kind?: string; message?: string })
      .filter((l) => l.type === 'host');
    expect(hosts).toHaveLength(2);
    for (const h of hosts)
      expect(h).toMatchObject({
        kind: 'become',
        message: expect.stringContaining('su did not accept the become password for root (--ask-become-pass)'),
      });
    expect(wrong.stdout + wrong.stderr).not.toContain('Wr0ng-Typed-Pw');
    expect(leaked(ask, inv, wrong)).toBe(false);
  });

  it('an unsupported method and su flags that carry a command are refused at file:line:col before any host', async () => {
    const doas = inventory('doas.yml', ['ansible_become_method: doas']);
    const flags = inventory('flags.yml', ['ansible_become_method: su', 'ansible_become_flags: "-l -c id"']);
    for (const [inv, text] of [
      [doas, '`ansible_become_method` must be one of "sudo", "su"'],
      [flags, 'remove -c: rollgate gives su the command to run'],
    ] as const) {
      const run = await rollgate(['exec', '-i', inv, '--', 'id -u'], noAgent);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`${inv}:`);
      expect(run.stderr).toContain(text);
    }
  });

  it('rollgate run and run --check: a become play through su; the password is in no output and not in the journal', async () => {
    const play = join(dir, 'su-play.yml');
    writeFileSync(
      play,
      [
        '- hosts: all',
        '  become: true',
        '  tasks:',
        '    - command: id -u',
        '      register: uid',
        '    - name: a host that prints the password back',
        '      command: cat /etc/rg-su-echo',
        '      register: echoed',
        '    - debug: { msg: "uid {{ uid.stdout }}, the host said {{ echoed.stdout }}" }',
        '',
      ].join('\n'),
    );
    const echoFile = '/etc/rg-su-echo';
    writeFileSync(echoFile, `${ROOT_PASSWORD}\n`, { mode: 0o600 });
    const journal = join(dir, 'journal.db');
    // Seen only by root (/root is 0700): check mode finds it only when its probe ran through su.
    const rootOnly = '/root/.rg-su-check';
    const checkPlay = join(dir, 'su-check.yml');
    const checkTask = [`    - command: { cmd: touch ${rootOnly}, creates: ${rootOnly} }`];
    writeFileSync(checkPlay, ['- hosts: all', '  become: true', '  tasks:', ...checkTask, ''].join('\n'));
    writeFileSync(rootOnly, '');
    try {
      const run = await rollgate(
        ['run', play, '-i', inventory('run.yml'), '--journal', journal, '-K', '--json'],
        noAgent,
        `${ROOT_PASSWORD}\n`,
      );
      expect(run.code, run.stderr + run.stdout).toBe(0);
      expect(run.stdout).toContain('uid 0, the host said [redacted]');
      const check = await rollgate(
        ['run', checkPlay, '-i', inventory('run.yml'), '--journal', journal, '-K', '--json', '--check'],
        noAgent,
        `${ROOT_PASSWORD}\n`,
      );
      expect(check.code, check.stderr + check.stdout).toBe(0);
      expect(check.stdout.match(new RegExp(`${rootOnly} exists`, 'g'))).toHaveLength(2);
      expect(leaked(run, check)).toBe(false);
      for (const suffix of ['', '-wal', '-shm'].filter((s) => existsSync(journal + s)))
        expect(readFileSync(journal + suffix).includes(ROOT_PASSWORD), `journal${suffix}`).toBe(false);
    } finally {
      rmSync(echoFile, { force: true });
      rmSync(rootOnly, { force: true });
    }
  });
});
