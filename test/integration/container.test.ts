/**
 * The controller image (docker/Dockerfile), built and run with Debian's podman: from a base made locally (no
 * registry is reachable; support/container.ts), as the non-root user it declares, against this test's own sshd
 * hosts with its journal on a volume, and as two controllers sharing one PostgreSQL fleet lock (a real server this
 * test starts). docker/compose.yaml is checked for what it names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseYaml } from '../../src/load/yaml.js';
import { FLEET_ADMIN_USER, removeFleetDir, startSshdFleet, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { PgFleetLock } from '../../src/journal/pg-fleet-lock.js';
import { ensureBuilt, rollgate } from './support/cli.js';
import { tempDir } from './support/ssh-fleet.js';
import { startPostgres, type TestPostgres } from './support/postgres.js';
import { ensureBaseImage, podmanFor, type Podman } from './support/container.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const IMAGE = 'localhost/rollgate-test:latest';
const UID = 10001;

let dir: string;
let fleet: SshdFleet;
let pg: TestPostgres;
let podman: Podman;
let ctl: string;

/** A directory the container's user owns (bind mounts keep the host's owners). */
function ownedDir(path: string): string {
  mkdirSync(path, { recursive: true });
  chownSync(path, UID, UID);
  return path;
}

beforeAll(async () => {
  ensureBuilt();
  dir = tempDir('container');
  chmodSync(dir, 0o755);
  fleet = await startSshdFleet({ count: 2, dir: join(dir, 'fleet') });
  pg = await startPostgres();
  podman = podmanFor(dir);
  await ensureBaseImage(podman);
  const built = await podman(
    ['build', '--isolation', 'chroot', '--pull=never', '-f', join(REPO, 'docker/Dockerfile'), '-t', IMAGE, REPO],
    900_000,
  );
  if (built.code !== 0) throw new Error(`podman build failed:\n${built.stderr.slice(-4000)}`);
  // What the controller is given: a key it can read, the fleet's host keys, an inventory, a play.
  ctl = ownedDir(join(dir, 'ctl'));
  copyFileSync(fleet.clientKey, join(ctl, 'id'));
  copyFileSync(fleet.knownHosts, join(ctl, 'known_hosts'));
  writeFileSync(
    join(ctl, 'hosts.yml'),
    [
      'all:',
      '  vars:',
      '    ansible_host: 127.0.0.1',
      `    ansible_user: ${FLEET_ADMIN_USER}`,
      '    ansible_ssh_private_key_file: /ctl/id',
      '    rollgate_known_hosts_file: /ctl/known_hosts',
      '  hosts:',
      ...fleet.hosts.map((h) => `    ${h.name}:\n      ansible_port: ${h.port}`),
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(ctl, 'play.yml'),
    '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: uname -s\n      register: os\n    - debug:\n        var: os.stdout\n',
  );
  writeFileSync(
    join(ctl, 'slow.yml'),
    '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: sleep {{ pause | default(0) }}\n',
  );
  for (const f of ['id', 'known_hosts', 'hosts.yml', 'play.yml', 'slow.yml']) chownSync(join(ctl, f), UID, UID);
  chmodSync(join(ctl, 'id'), 0o600);
}, 1_800_000);

afterAll(async () => {
  await podman?.(['rmi', '-f', IMAGE]);
  await fleet?.stop();
  pg?.stop();
  if (dir) {
    removeFleetDir(join(dir, 'fleet'));
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `podman run` of the image on the host's network (the sshd hosts listen on loopback), `ctl` mounted read-only. */
function runImage(args: string[], opts: { journal?: string; env?: Record<string, string>; mounts?: string[] } = {}) {
  return podman([
    'run',
    '--rm',
    '--network',
    'host',
    '-v',
    `${ctl}:/ctl:ro`,
    ...(opts.journal ? ['-v', `${opts.journal}:/var/lib/rollgate`] : []),
    ...(opts.mounts ?? []).flatMap((m) => ['-v', m]),
    ...Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    IMAGE,
    ...args,
  ]);
}

/** A command other than rollgate in the image, without a network. */
const inImage = (entrypoint: string, ...args: string[]) =>
  podman(['run', '--rm', '--network', 'none', '--entrypoint', entrypoint, IMAGE, ...args]);

describe('the controller image (docker/Dockerfile) under podman', () => {
  it('runs rollgate as uid 10001 with OpenSSH and ipmitool, the journal path on its volume', async () => {
    const id = await inImage('id', '-u');
    expect(id.stdout.trim(), id.stderr).toBe(String(UID));
    const version = await runImage(['--version']);
    expect(version.code, version.stderr).toBe(0);
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toContain(pkg.version);
    const tools = await inImage('sh', '-c', 'ssh -V 2>&1; ipmitool -V; echo $ROLLGATE_JOURNAL');
    expect(tools.code, tools.stderr).toBe(0);
    expect(tools.stdout).toMatch(/OpenSSH_/);
    expect(tools.stdout).toMatch(/ipmitool version/);
    expect(tools.stdout).toContain('/var/lib/rollgate/journal.db');
    // Development dependencies were pruned: the image carries what runs, not the test tools.
    const pruned = await inImage('sh', '-c', 'ls /opt/rollgate/node_modules');
    expect(pruned.stdout).toMatch(/^better-sqlite3$/m);
    expect(pruned.stdout).not.toMatch(/^(vitest|typescript)$/m);
  });

  it('runs a play against the sshd hosts; its journal stays on the volume for the next container', async () => {
    const journal = ownedDir(join(dir, 'journal-a'));
    const ran = await runImage(['run', '/ctl/play.yml', '-i', '/ctl/hosts.yml'], { journal });
    expect(ran.code, ran.stderr + ran.stdout).toBe(0);
    for (const h of fleet.hosts) expect(ran.stdout).toMatch(new RegExp(`${h.name}\\s*:\\s*ok=2`));
    expect(ran.stdout).toMatch(/ok: \[h01\] => os.stdout: Linux/);
    expect(existsSync(join(journal, 'journal.db'))).toBe(true);
    // Another container on the same volume sees the run; so does rollgate on the host, reading the file.
    const runs = await runImage(['runs', '--json'], { journal });
    expect(runs.code, runs.stderr).toBe(0);
    const listed = runs.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; playbook?: string });
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ status: 'succeeded' });
    const onHost = await rollgate(['runs', '--json', '--journal', join(journal, 'journal.db')]);
    expect(onHost.stdout.trim()).toBe(runs.stdout.trim());
  });

  it('two controllers share one PostgreSQL fleet lock: the second is refused while the first holds the host', async () => {
    const socketDir = new URL(pg.url.replace(/^postgres:/, 'http:')).searchParams.get('host');
    expect(socketDir).toBeTruthy();
    chmodSync(socketDir!, 0o755); // the containers' user reaches the socket (the data directory stays 0700)
    const env = { ROLLGATE_FLEET_LOCK_URL: pg.url };
    const mounts = [`${socketDir}:${socketDir}`];
    const host = fleet.hosts[0]!.name;
    const a = runImage(['run', '/ctl/slow.yml', '-i', '/ctl/hosts.yml', '-l', host, '-e', 'pause=20'], {
      journal: ownedDir(join(dir, 'journal-site-a')),
      env,
      mounts,
    });
    const lock = new PgFleetLock(pg.url);
    try {
      let held = false;
      for (let i = 0; i < 120 && !held; i++) {
        held = (await lock.listHostLocks()).some((l) => l.host === host);
        if (!held) await sleep(500);
      }
      expect(held, 'controller A never took the host lock').toBe(true);
      const journalB = ownedDir(join(dir, 'journal-site-b'));
      const refused = await runImage(['run', '/ctl/slow.yml', '-i', '/ctl/hosts.yml', '-l', host], {
        journal: journalB,
        env,
        mounts,
      });
      expect(refused.code, refused.stderr + refused.stdout).toBe(5);
      expect(refused.stderr).toMatch(
        /is locked by run \S+: run \S+ is not in this journal: it belongs to the controller/,
      );
      const first = await a;
      expect(first.code, first.stderr + first.stdout).toBe(0);
      const after = await runImage(['run', '/ctl/slow.yml', '-i', '/ctl/hosts.yml', '-l', host], {
        journal: journalB,
        env,
        mounts,
      });
      expect(after.code, after.stderr + after.stdout).toBe(0);
      expect(await lock.listHostLocks()).toEqual([]);
    } finally {
      await lock.close();
    }
  }, 300_000);

  it('compose.yaml builds this Dockerfile and gives both controllers one journal in its PostgreSQL, without a password', () => {
    type Service = {
      build?: { context: string; dockerfile: string };
      environment?: Record<string, string>;
      volumes?: string[];
    };
    const file = join(REPO, 'docker/compose.yaml');
    const compose = parseYaml(readFileSync(file, 'utf8'), file).value as {
      services: Record<string, Service>;
    };
    expect(Object.keys(compose.services).sort()).toEqual(['controller-a', 'controller-b', 'postgres']);
    // The variable the CLI reads for the journal is the one compose sets.
    expect(readFileSync(join(REPO, 'src/journal/journal-path.ts'), 'utf8')).toContain('env.ROLLGATE_JOURNAL');
    const journals = new Set<string>();
    for (const name of ['controller-a', 'controller-b']) {
      const svc = compose.services[name]!;
      expect(resolve(REPO, 'docker', svc.build!.context, svc.build!.dockerfile)).toBe(join(REPO, 'docker/Dockerfile'));
      const url = svc.environment?.ROLLGATE_JOURNAL ?? '';
      expect(url).toMatch(/^postgresql:\/\/rollgate@postgres:5432\/rollgate$/); // the password from pg.env, never here
      expect(svc.environment?.ROLLGATE_FLEET_LOCK_URL).toBeUndefined(); // the journal's database holds the lock
      const inventory = svc.volumes?.find((v) => v.endsWith(':/inventory:ro'));
      expect(existsSync(resolve(REPO, 'docker', inventory!.split(':')[0]!, 'hosts.yml'))).toBe(true);
      journals.add(url);
    }
    expect(journals.size).toBe(1); // one journal for both controllers
  });
});
