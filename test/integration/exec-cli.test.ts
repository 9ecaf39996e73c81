import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/lab/sshd-host.js';
import { removeFleetDir, startSshdFleet, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { ensureBuilt, rollgate } from './support/cli.js';
import { tempDir } from './support/ssh-fleet.js';

let fleet: SshdFleet;
let dir: string;
let closedPort: number;
const noAgent = { SSH_AUTH_SOCK: '' };
const connections = () =>
  fleet.hosts
    .map((h) => (readFileSync(join(h.dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length)
    .reduce((a, b) => a + b, 0);

/** An inventory of the fleet (group `good`) plus extra host lines (group `bad`). */
function inventory(name: string, bad = '', extraVars = ''): string {
  const path = join(dir, name);
  const good = fleet.hosts.map((h) => `        ${h.name}:\n          ansible_port: ${h.port}\n`).join('');
  writeFileSync(
    path,
    [
      'all:',
      '  vars:',
      '    ansible_host: 127.0.0.1',
      '    ansible_user: rgops',
      `    ansible_ssh_private_key_file: ${fleet.clientKey}`,
      `    rollgate_known_hosts_file: ${fleet.knownHosts}`,
      extraVars,
      '  children:',
      '    good:',
      '      hosts:',
      good + (bad ? `    bad:\n      hosts:\n${bad}` : ''),
    ]
      .filter((l) => l !== '')
      .join('\n'),
  );
  return path;
}

beforeAll(async () => {
  ensureBuilt();
  dir = tempDir('execcli');
  fleet = await startSshdFleet({ count: 3, dir });
  closedPort = await freePort();
});
afterAll(async () => {
  await fleet?.stop();
  removeFleetDir(dir);
});

describe('rollgate exec', () => {
  it('exits 0 and prints every host when all succeed', async () => {
    const run = await rollgate(['exec', '-i', inventory('ok.yml'), '--', 'echo', 'hello from $(id -un)'], noAgent);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const h of fleet.hosts) expect(run.stdout).toContain(`${h.name} | ok | rc=0`);
    expect(run.stdout.match(/hello from rgops/g)).toHaveLength(3);
    expect(run.stdout).toMatch(/ok=3 failed=0 unreachable=0/);
  });

  it('exits 1 when a command fails, and reports each host in JSON with its own outcome', async () => {
    const failing = fleet.hosts[1]!;
    const cmd = `case "$SSH_CONNECTION" in *" ${failing.port}") echo broken >&2; exit 3;; esac; id -u`;
    const run = await rollgate(['exec', '-i', inventory('json.yml'), '--json', '--', cmd], noAgent);
    expect(run.code).toBe(1);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const byHost = Object.fromEntries(lines.filter((l) => l.type === 'host').map((l) => [l.host, l]));
    expect(byHost[fleet.hosts[0]!.name]).toMatchObject({
      status: 'ok',
      exitCode: 0,
      stdout: expect.stringMatching(/^\d+\n$/),
      stderr: '',
    });
    expect(byHost[failing.name]).toMatchObject({
      status: 'failed',
      kind: 'command',
      exitCode: 3,
      stderr: 'broken\n',
      message: 'exit status 3',
    });
    expect(lines.at(-1)).toMatchObject({ type: 'summary', ok: 2, failed: 1, unreachable: 0 });
  });

  it('exits 4 and names each kind when hosts are down, refuse the key, or time out', async () => {
    const bad = [
      `        down:\n          ansible_port: ${closedPort}\n`,
      `        stranger:\n          ansible_port: ${fleet.hosts[0]!.port}\n          rollgate_known_hosts_file: /dev/null\n`,
    ].join('');
    const run = await rollgate(
      [
        'exec',
        '-i',
        inventory('bad.yml', bad),
        '--json',
        '--timeout',
        '1',
        '--',
        `case "$SSH_CONNECTION" in *" ${fleet.hosts[2]!.port}") sleep 20;; esac; true`,
      ],
      noAgent,
    );
    expect(run.code).toBe(4);
    const byHost = Object.fromEntries(
      run.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((l) => l.type === 'host')
        .map((l) => [l.host, l]),
    );
    expect(byHost.down).toMatchObject({ status: 'unreachable', kind: 'unreachable' });
    expect(byHost.stranger).toMatchObject({
      status: 'unreachable',
      kind: 'host_key',
      message: expect.stringMatching(/is not known/),
    });
    expect(byHost[fleet.hosts[2]!.name]).toMatchObject({ status: 'failed', kind: 'timeout' });
    expect(byHost[fleet.hosts[0]!.name]).toMatchObject({ status: 'ok' });
  });

  it('becomes root with --become, and reports a user sudo refuses as failed (become)', async () => {
    const plain = `        plain:\n          ansible_port: ${fleet.hosts[0]!.port}\n          ansible_user: rgplain\n`;
    const run = await rollgate(
      ['exec', '-i', inventory('become.yml', plain), '--become', '--json', '--', 'id -u'],
      noAgent,
    );
    expect(run.code).toBe(1);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'host');
    expect(lines.filter((l) => l.status === 'ok').map((l) => l.stdout)).toEqual(['0\n', '0\n', '0\n']);
    expect(lines.find((l) => l.host === 'plain')).toMatchObject({
      status: 'failed',
      kind: 'become',
      message: expect.stringMatching(/sudo -n refused/),
    });
  });

  it('limits to a pattern', async () => {
    const run = await rollgate(
      ['exec', '-i', inventory('limit.yml'), '--limit', `good:!${fleet.hosts[0]!.name}`, '--json', '--', 'true'],
      noAgent,
    );
    expect(run.code).toBe(0);
    const hosts = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'host')
      .map((l) => l.host)
      .sort();
    expect(hosts).toEqual([fleet.hosts[1]!.name, fleet.hosts[2]!.name]);
  });

  it('rejects bad input with file:line:col before contacting any host', async () => {
    const before = connections();
    const path = inventory(
      'badkey.yml',
      `        nokey:\n          ansible_ssh_private_key_file: /nonexistent/id_ed25519\n`,
    );
    const run = await rollgate(['exec', '-i', path, '--', 'true'], noAgent);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      new RegExp(
        `^${path}:\\d+:\\d+: host \`nokey\`: key file /nonexistent/id_ed25519 \\(ansible_ssh_private_key_file\\) does not exist`,
      ),
    );
    const typo = await rollgate(['exec', '-i', inventory('typo.yml'), '--limit', 'goood', '--', 'true'], noAgent);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/--limit:1:1: no host or group matches `goood`. [Dd]id you mean `good`\?/);
    const forks = await rollgate(['exec', '-i', inventory('typo.yml'), '--forks', 'many', '--', 'true'], noAgent);
    expect(forks.code).toBe(2);
    expect(forks.stderr).toMatch(/--forks is "many"/);
    expect(connections()).toBe(before);
  });
});
