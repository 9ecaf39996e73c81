import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findKnownKeys, knownHostsName } from '../../src/connection/known-hosts.js';
import { SshConnection } from '../../src/connection/ssh.js';
import { removeFleetDir, startSshdFleet, stopHosts, type FleetHost, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { keygen, startSshdHost } from '../../src/lab/sshd-host.js';
import { hostTarget, tempDir } from './support/ssh-fleet.js';

// rollgate's known_hosts matcher beside OpenSSH's own: `ssh -G` gives the name ssh looks up (lower-cased),
// `ssh-keygen -F` the lines that match it, and the real `ssh` client decides connect-or-refuse against real sshd.
let fleet: SshdFleet;
let dir: string;
let caHost: FleetHost;
let caPub: string;

beforeAll(async () => {
  dir = tempDir('kh-openssh');
  fleet = await startSshdFleet({ count: 2, dir });
  // A host with an OpenSSH host certificate signed by our CA, for @cert-authority.
  const caDir = join(dir, 'ca-host');
  mkdirSync(caDir, { recursive: true });
  await keygen(join(dir, 'ca'), 'ed25519', 'host-ca');
  await keygen(join(caDir, 'ssh_host_ed25519_key'), 'ed25519', 'ca-host');
  execFileSync('ssh-keygen', [
    '-q',
    '-s',
    join(dir, 'ca'),
    '-I',
    'ca-host',
    '-h',
    '-n',
    '127.0.0.1,localhost',
    join(caDir, 'ssh_host_ed25519_key.pub'),
  ]);
  caPub = readFileSync(join(dir, 'ca.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  caHost = await startSshdHost({
    name: 'ca-host',
    dir: caDir,
    authorizedKeys: readFileSync(`${fleet.clientKey}.pub`, 'utf8'),
    extraConfig: [`HostCertificate ${join(caDir, 'ssh_host_ed25519_key-cert.pub')}`],
  });
});
afterAll(async () => {
  await fleet?.stop();
  if (caHost) await stopHosts([caHost]);
  removeFleetDir(dir);
});

const key = (i: number) => fleet.hosts[i]!.hostPublicKey;
let files = 0;
function file(text: string, hash = false): string {
  const path = join(dir, `known_hosts_${++files}`);
  writeFileSync(path, text);
  if (hash) execFileSync('ssh-keygen', ['-q', '-H', '-f', path], { stdio: 'ignore' });
  return path;
}

/** The known_hosts name ssh itself looks up for `ssh -p port name` (from `ssh -G`: lower-cased host name). */
function sshLookupName(name: string, port: number): string {
  const g = execFileSync('ssh', ['-G', '-F', '/dev/null', '-p', String(port), name], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const hostname = /^hostname (.*)$/m.exec(g)?.[1] ?? name;
  return port === 22 ? hostname : `[${hostname}]:${port}`;
}

/** `ssh-keygen -F`'s matches as `line` or `line CA` / `line REVOKED`. */
function opensshMatches(path: string, name: string): string[] {
  let out = '';
  try {
    out = execFileSync('ssh-keygen', ['-F', name, '-f', path], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return []; // exit 1: not found
  }
  return [...out.matchAll(/^# Host .* found: line (\d+) ?(CA|REVOKED)?$/gm)].map((m) =>
    m[2] ? `${m[1]} ${m[2]}` : m[1]!,
  );
}

function rollgateMatches(path: string, name: string, port: number): string[] {
  return findKnownKeys(readFileSync(path, 'utf8'), knownHostsName(name, port)).map(
    (k) => `${k.line}${k.certAuthority ? ' CA' : k.revoked ? ' REVOKED' : ''}`,
  );
}

/** Whether the real OpenSSH client connects with exactly this known_hosts file, and what it said. */
function sshConnects(
  host: FleetHost,
  address: string,
  path: string,
  policy: 'yes' | 'accept-new',
): Promise<{ ok: boolean; stderr: string }> {
  const args = [
    '-F',
    '/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    `StrictHostKeyChecking=${policy}`,
    '-o',
    `UserKnownHostsFile=${path}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'CheckHostIP=no',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `IdentityFile=${fleet.clientKey}`,
    '-o',
    'ConnectTimeout=10',
    '-p',
    String(host.port),
    `rgops@${address}`,
    'true',
  ];
  return new Promise((resolve) =>
    execFile('ssh', args, { timeout: 20_000 }, (err, _out, stderr) => resolve({ ok: !err, stderr })),
  );
}

async function rollgateConnects(
  host: FleetHost,
  address: string,
  path: string,
  policy: 'strict' | 'accept-new',
): Promise<{ ok: boolean; message: string }> {
  try {
    const conn = await SshConnection.open(
      hostTarget(fleet, host, { address, knownHostsFiles: [path], hostKeyPolicy: policy }),
    );
    await conn.close();
    return { ok: true, message: '' };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

describe('known_hosts matching beside ssh-keygen -F and ssh -G', () => {
  // ssh-keygen -H refuses a file with a line it cannot read, so the hashed copy leaves the unknown marker out.
  const text = (unknownMarker = true) =>
    [
      '# mixed case, comma lists, ports, wildcards, negation and markers',
      `HV1.Lab,10.0.0.1 ${key(0)}`,
      `[LocalHost]:2201 ${key(1)}`,
      `*.lab,!bad.lab ${key(1)}`,
      `h?.example,[h?.example]:2222 ${key(0)}`,
      `@revoked hv1.lab ${key(1)}`,
      `@cert-authority *.ca.lab,[*.ca.lab]:2200 ${key(0)}`,
      `[127.0.0.1]:2201,!127.0.0.2 ${key(0)}`,
      ...(unknownMarker ? [`@unknown-marker hv1.lab ${key(0)}`] : []),
    ].join('\n') + '\n';
  const names: [string, number][] = [
    ['hv1.lab', 22],
    ['HV1.LAB', 22],
    ['10.0.0.1', 22],
    ['LOCALHOST', 2201],
    ['localhost', 2201],
    ['localhost', 22],
    ['x.lab', 22],
    ['BAD.lab', 22],
    ['bad.lab', 2222],
    ['H1.example', 2222],
    ['h12.example', 22],
    ['web.CA.lab', 2200],
    ['web.ca.lab', 22],
    ['127.0.0.1', 2201],
    ['127.0.0.2', 2201],
  ];

  it('finds the same lines as OpenSSH in a plain file, for every name and port', () => {
    const path = file(text());
    for (const [name, port] of names) {
      expect([name, port, rollgateMatches(path, name, port)]).toEqual([
        name,
        port,
        opensshMatches(path, sshLookupName(name, port)),
      ]);
    }
  });

  it('finds the same lines as OpenSSH once ssh-keygen -H has hashed the file', () => {
    const path = file(text(false), true);
    expect(readFileSync(path, 'utf8')).toMatch(/^\|1\|/m);
    for (const [name, port] of names) {
      expect([name, port, rollgateMatches(path, name, port)]).toEqual([
        name,
        port,
        opensshMatches(path, sshLookupName(name, port)),
      ]);
    }
  });
});

describe('connect or refuse as the OpenSSH client does, against real sshd', () => {
  const entryFor = (i: number, name: string, k = key(i)) => `[${name}]:${fleet.hosts[i]!.port} ${k}\n`;

  it('connects to LOCALHOST through a hashed entry written for localhost', async () => {
    const path = file(entryFor(0, 'localhost'), true);
    expect(await sshConnects(fleet.hosts[0]!, 'LOCALHOST', path, 'yes')).toMatchObject({ ok: true });
    expect(await rollgateConnects(fleet.hosts[0]!, 'LOCALHOST', path, 'strict')).toEqual({ ok: true, message: '' });
  });

  it('refuses LOCALHOST with a changed key under a hashed entry, even with accept-new, and records nothing', async () => {
    const path = file(entryFor(0, 'localhost', key(1)), true);
    const before = readFileSync(path, 'utf8');
    const ssh = await sshConnects(fleet.hosts[0]!, 'LOCALHOST', path, 'accept-new');
    expect(ssh.ok).toBe(false);
    expect(ssh.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
    const ours = await rollgateConnects(fleet.hosts[0]!, 'LOCALHOST', path, 'accept-new');
    expect(ours).toEqual({ ok: false, message: expect.stringMatching(/HOST KEY CHANGED for \[localhost\]:\d+/) });
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('agrees on mixed-case plain entries, wildcards and negation', async () => {
    const port = fleet.hosts[0]!.port;
    const cases: [string, string, boolean][] = [
      [`[LocalHost]:${port} ${key(0)}\n`, 'localhost', true],
      [`[127.0.0.*]:${port} ${key(0)}\n`, '127.0.0.1', true],
      [`[127.0.0.*]:${port},![127.0.0.1]:${port} ${key(0)}\n`, '127.0.0.1', false],
      [`[localhost]:${port + 1} ${key(0)}\n`, 'localhost', false],
    ];
    for (const [text, address, connects] of cases) {
      const path = file(text);
      expect([text, (await sshConnects(fleet.hosts[0]!, address, path, 'yes')).ok]).toEqual([text, connects]);
      expect([text, (await rollgateConnects(fleet.hosts[0]!, address, path, 'strict')).ok]).toEqual([text, connects]);
    }
  });
});

describe('@cert-authority against a real sshd with a host certificate', () => {
  const caLine = () => `@cert-authority [127.0.0.1]:${caHost.port},[localhost]:${caHost.port} ${caPub}\n`;

  it('is trusted by OpenSSH through the certificate, refused by rollgate naming the line', async () => {
    const path = file(caLine());
    expect(await sshConnects(caHost, '127.0.0.1', path, 'yes')).toMatchObject({ ok: true });
    const ours = await rollgateConnects(caHost, '127.0.0.1', path, 'strict');
    expect(ours).toEqual({ ok: false, message: expect.stringContaining(`covered by @cert-authority at ${path}:1`) });
    expect(ours.message).toMatch(/cannot check host certificates/);
  });

  it('never records the raw key of a CA-covered host under accept-new', async () => {
    const path = file(caLine());
    const ours = await rollgateConnects(caHost, 'LOCALHOST', path, 'accept-new');
    expect(ours).toEqual({ ok: false, message: expect.stringMatching(/@cert-authority/) });
    expect(readFileSync(path, 'utf8')).toBe(caLine());
  });

  it("connects when the host's plain key is recorded beside the authority", async () => {
    const path = file(caLine() + `[127.0.0.1]:${caHost.port} ${caHost.hostPublicKey}\n`);
    expect(await rollgateConnects(caHost, '127.0.0.1', path, 'strict')).toEqual({ ok: true, message: '' });
  });
});
