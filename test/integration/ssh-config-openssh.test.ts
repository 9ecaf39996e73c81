import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { expandSshTokens, parseSshConfig, type SshConfigEntry } from '../../src/targets/ssh-config.js';
import { resolveTarget } from '../../src/targets/resolve-target.js';
import { tempDir } from './support/ssh-fleet.js';

// rollgate's reading of ssh_config held to OpenSSH's: for each config the test writes, `ssh -G -F FILE HOST` prints
// what ssh would use, and rollgate must resolve the same HostName, Port, User, IdentityFile, ProxyJump,
// UserKnownHostsFile and StrictHostKeyChecking. ssh takes `~` and relative Includes from the passwd home (not
// $HOME), so the relative-Include files go under ~/.ssh/<unique dir> and are removed afterwards.

const FIELDS = [
  'hostname',
  'port',
  'user',
  'identityfile',
  'proxyjump',
  'userknownhostsfile',
  'stricthostkeychecking',
] as const;
type Field = (typeof FIELDS)[number];

let dir: string;
let rel: string; // relative to ~/.ssh
let relDir: string;
let defaults: Record<Field, string[]>;
const home = homedir();
const me = userInfo().username;

function sshG(file: string, host: string): Record<Field, string[]> {
  const out = execFileSync('ssh', ['-G', '-F', file, host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const got = Object.fromEntries(FIELDS.map((f) => [f, [] as string[]])) as Record<Field, string[]>;
  for (const line of out.split('\n')) {
    const [key, ...rest] = line.split(' ');
    const k = key?.toLowerCase() as Field;
    if (FIELDS.includes(k)) got[k].push(rest.join(' '));
  }
  if (got.userknownhostsfile.length === 1) got.userknownhostsfile = got.userknownhostsfile[0]!.split(' ');
  return got;
}

/** What rollgate's lookup means, printed the way `ssh -G` prints it (defaults filled as OpenSSH fills them). */
function asSshG(e: SshConfigEntry, name: string, defaults: Record<Field, string[]>): Record<Field, string[]> {
  const hostname = e.hostName ? e.hostName.replace(/%h/g, name).replace(/%%/g, '%') : name;
  const port = e.port ?? '22';
  const user = e.user ?? me;
  const tokens = { host: hostname, original: name, port: Number(port), remoteUser: user };
  const strict = { yes: 'true', no: 'false' }[e.strictHostKeyChecking?.toLowerCase() ?? ''];
  return {
    hostname: [hostname.toLowerCase()],
    port: [port],
    user: [user],
    identityfile: e.identityFiles.length ? e.identityFiles : defaults.identityfile,
    proxyjump: e.proxyJump ? [e.proxyJump] : [],
    userknownhostsfile: e.userKnownHostsFiles.length
      ? e.userKnownHostsFiles.map((f) => expandSshTokens(f, tokens, home))
      : defaults.userknownhostsfile,
    stricthostkeychecking: [strict ?? e.strictHostKeyChecking?.toLowerCase() ?? 'ask'],
  };
}

interface Case {
  title: string;
  /** Files to write, relative to the test dir (`~rel/` = the unique dir under ~/.ssh); the first is passed to -F. */
  files: Record<string, string>;
  hosts: string[];
}

const cases = (): Case[] => [
  {
    title: 'Host patterns with wildcards and first value wins',
    files: {
      config: 'Host hv*\n  User ops\n  Port 2201\nHost hv07\n  User other\n  HostName 10.0.0.7\nHost *\n  Port 22\n',
    },
    hosts: ['hv07', 'hv1', 'db'],
  },
  {
    title: 'Host negation vetoes the whole line',
    files: { config: 'Host *.lab !bad.lab\n  User labops\nHost *\n  User everyone\n' },
    hosts: ['a.lab', 'bad.lab', 'c.prod'],
  },
  {
    title: '? matches exactly one character',
    files: { config: 'Host hv?\n  Port 2202\n' },
    hosts: ['hv1', 'hv', 'hv12'],
  },
  {
    title: 'settings before any Host apply to every host',
    files: { config: 'User global\nPort 2203\nHost x\n  User local\n' },
    hosts: ['x', 'y'],
  },
  {
    title: 'Include with an absolute glob, files read in sorted order',
    files: {
      config: 'Include DIR/conf.d/*.conf\nHost *\n  User fallback\n',
      'conf.d/20-b.conf': 'Host web*\n  User second\n  Port 2204\n',
      'conf.d/10-a.conf': 'Host web1\n  User first\n',
      'conf.d/readme.txt': 'Host *\n  User never\n',
    },
    hosts: ['web1', 'web2', 'other'],
  },
  {
    title: 'Include relative to ~/.ssh',
    files: { config: 'Include REL/inc.conf\n', '~rel/inc.conf': 'Host rel*\n  HostName 192.0.2.1\n  Port 2205\n' },
    hosts: ['rel1', 'x'],
  },
  {
    title: 'Include inside a Host block applies only to that host, and its Host lines narrow further',
    files: {
      config: 'Host inc*\n  Include DIR/inner.conf\nHost *\n  User outer\n',
      'inner.conf': 'User inner\nHost inc2\n  Port 2206\n',
    },
    hosts: ['inc1', 'inc2', 'zzz'],
  },
  {
    title: 'Include of a missing file and a glob with no match are ignored',
    files: { config: 'Include DIR/none.conf DIR/nothing/*\nHost *\n  User ok\n' },
    hosts: ['a'],
  },
  {
    title: 'nested Includes',
    files: {
      config: 'Include DIR/one.conf\n',
      'one.conf': 'Include DIR/two.conf\nHost deep\n  Port 2207\n',
      'two.conf': 'Host deep\n  User two\n',
    },
    hosts: ['deep'],
  },
  {
    title: 'Match host tests the HostName given so far, originalhost the name typed',
    files: {
      config:
        'Host short\n  HostName long.example.test\nMatch host long.example.test\n  User byhost\nMatch originalhost short\n  Port 2208\n',
    },
    hosts: ['short', 'long.example.test'],
  },
  {
    title: 'Match host with a comma list and a negated entry',
    files: { config: 'Match host a*,!ab\n  Port 2209\n' },
    hosts: ['aa', 'ab', 'b'],
  },
  {
    title: 'Match user tests the User so far, the local user when none',
    files: { config: `Host u1\n  User alice\nMatch user alice\n  Port 2210\nMatch user ${me}\n  Port 2211\n` },
    hosts: ['u1', 'u2'],
  },
  {
    title: 'Match localuser and Match all',
    files: { config: `Match localuser ${me}\n  User fromlocal\nMatch all\n  Port 2212\n` },
    hosts: ['any'],
  },
  {
    title: 'negated Match criteria',
    files: { config: 'Match !host skip*\n  Port 2213\nMatch !originalhost x,y !user nobody\n  User neg\n' },
    hosts: ['skip1', 'keep', 'x'],
  },
  {
    title: 'Match final runs a second pass where Host matches the HostName',
    files: { config: 'Host alias\n  HostName real\nMatch final\nHost real\n  Port 2214\n  User final\n' },
    hosts: ['alias', 'real'],
  },
  {
    title: 'Match canonical applies in the final pass that CanonicalizeHostname asks for',
    files: {
      config: 'Host c1\n  CanonicalizeHostname yes\n  CanonicalDomains example.invalid\nMatch canonical\n  Port 2215\n',
    },
    hosts: ['c1', 'c2'],
  },
  {
    title: 'IdentityFile accumulates across blocks, tokens left for the client to expand',
    files: { config: 'Host k*\n  IdentityFile ~/.ssh/k_%h_%r\nHost *\n  IdentityFile /keys/all\n  User keyuser\n' },
    hosts: ['k1', 'z'],
  },
  {
    title: 'UserKnownHostsFile lists with tokens, StrictHostKeyChecking in each spelling',
    files: {
      config:
        'Host s1\n  StrictHostKeyChecking yes\n  UserKnownHostsFile ~/kh/%h %d/kh2 /x/%p-%r\nHost s2\n  StrictHostKeyChecking accept-new\nHost s3\n  StrictHostKeyChecking no\n  HostName 198.51.100.3\n  UserKnownHostsFile /kh/%h\n',
    },
    hosts: ['s1', 's2', 's3'],
  },
  {
    title: 'ProxyJump, first one wins, and none',
    files: { config: 'Host p1\n  ProxyJump ops@bastion:2222\nHost p2\n  ProxyJump none\nHost p*\n  ProxyJump other\n' },
    hosts: ['p1', 'p2', 'p3'],
  },
  {
    title: 'HostName with %h and %%',
    files: { config: 'Host *.short\n  HostName %h.example.test\nHost pct\n  HostName a%%b\n' },
    hosts: ['x.short', 'pct'],
  },
  {
    title: 'keywords in any case, Host patterns case-sensitive, Match host not, = separators, quoted values',
    files: {
      config: 'HOST MiXeD\n  hostname=10.9.9.9\n  PORT = 2216\n  User "q user"\nmatch HOST MIXED\n  Port 2219\n',
    },
    hosts: ['mixed', 'MiXeD', 'MIXED'],
  },
  {
    title: 'Include and Match together: a Match in an included file does not change the including block',
    files: {
      config: 'Host both\n  Include DIR/m.conf\n  Port 2217\nHost *\n  User tail\n',
      'm.conf': 'Match originalhost nomatch\n  User never\n',
    },
    hosts: ['both'],
  },
];

beforeAll(() => {
  dir = tempDir('ssh-config-openssh');
  rel = `rollgate-test-${process.pid}`;
  relDir = join(home, '.ssh', rel);
  mkdirSync(relDir, { recursive: true });
  writeFileSync(join(dir, 'empty'), '');
  defaults = sshG(join(dir, 'empty'), 'defaults-probe');
});

afterAll(() => {
  if (relDir) rmSync(relDir, { recursive: true, force: true });
});

describe('ssh_config read as `ssh -G` reads it', () => {
  it('covers at least 20 configs with Include and Match', () => {
    const all = cases();
    expect(all.length).toBeGreaterThanOrEqual(20);
    expect(all.filter((c) => Object.values(c.files).some((t) => /Include/.test(t))).length).toBeGreaterThan(4);
    expect(all.filter((c) => Object.values(c.files).some((t) => /Match/.test(t))).length).toBeGreaterThan(6);
  });

  for (const [i, c] of cases().entries())
    it(c.title, () => {
      const base = join(dir, `case${i}`);
      let main = '';
      for (const [name, text] of Object.entries(c.files)) {
        const path = name.startsWith('~rel/') ? join(relDir, `case${i}`, name.slice(5)) : join(base, name);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, text.replaceAll('DIR', base).replaceAll('REL', `${rel}/case${i}`));
        if (!main) main = path;
      }
      const text = c.files.config!.replaceAll('DIR', base).replaceAll('REL', `${rel}/case${i}`);
      const config = parseSshConfig(text, main, { home, localUser: me });
      for (const host of c.hosts) {
        const want = sshG(main, host);
        expect(asSshG(config.lookup(host), host, defaults), `${c.title}: ${host}`).toEqual(want);
      }
    });

  it('gives the resolved target the address, port and user ssh would use', () => {
    const base = join(dir, 'target');
    mkdirSync(base, { recursive: true });
    const file = join(base, 'config');
    writeFileSync(join(base, 'inc.conf'), 'Host hv07\n  HostName 10.0.0.7\n');
    writeFileSync(file, `Include ${base}/*.conf\nMatch originalhost hv07\n  Port 2218\n  User ops\n`);
    const sshConfig = parseSshConfig(
      `Include ${base}/*.conf\nMatch originalhost hv07\n  Port 2218\n  User ops\n`,
      file,
      {
        home,
        localUser: me,
      },
    );
    const t = resolveTarget({ name: 'hv07', vars: {} } as never, {
      sshConfig,
      home,
      localUser: me,
      agentSocket: join(dir, 'agent.sock'),
    });
    const want = sshG(file, 'hv07');
    expect([t.address, String(t.port), t.user]).toEqual([want.hostname[0], want.port[0], want.user[0]]);
  });
});
