/**
 * The controller image (docker/Dockerfile), built and run with Debian's podman: from a base made locally (no
 * registry is reachable; support/container.ts), as the non-root user it declares, against this test's own sshd
 * hosts with its journal on a volume, and as two controllers sharing one PostgreSQL fleet lock (a real server this
 * test starts). docker/compose.yaml is checked for what it names, then started with podman-compose: its PostgreSQL
 * service (a stand-in image, support/compose.ts) and both controllers, one journal between them.
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
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseYaml } from '../../src/load/yaml.js';
import { FLEET_ADMIN_USER, removeFleetDir, startSshdFleet, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { PgFleetLock } from '../../src/journal/pg-fleet-lock.js';
import { ensureBuilt, rollgate } from './support/cli.js';
import { tempDir } from './support/ssh-fleet.js';
import { startPostgres, type TestPostgres } from './support/postgres.js';
import { ensureBaseImage, podmanFor, type Podman } from './support/container.js';
import { buildPostgresStandin, composeFor, POSTGRES_STANDIN_IMAGE, type Compose } from './support/compose.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const IMAGE = 'localhost/rollgate-test:latest';
const UID = 10001;

let dir: string;
let fleet: SshdFleet;
let pg: TestPostgres;
let podman: Podman;
let ctl: string;
/** The PostgreSQL stand-in's build (for the compose block), beside the controller image's: its error, if any. */
let standinBuilt: Promise<unknown> = Promise.resolve();

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
  standinBuilt = buildPostgresStandin(podman).then(
    () => undefined,
    (err: unknown) => err,
  );
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
  await standinBuilt;
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

/**
 * docker/compose.yaml itself, started with podman-compose: its PostgreSQL service (the stand-in image, no registry
 * here: support/compose.ts) on the compose network, both controller services with the image built above, and the
 * file's own mounts: ../inventory and ${HOME}/.ssh, laid out in a copy of the tree next to the copied compose file,
 * with the secrets (made up per run, never committed) in its docker/secrets/. The controllers reach their sshd hosts
 * on the compose network's gateway address, where this block's hosts listen.
 */
describe('docker/compose.yaml started with podman-compose', () => {
  let compose: Compose | undefined;
  let composeFleet: SshdFleet | undefined;
  let password: string;
  const project = `rgtest${process.pid}`;
  const runIds: string[] = [];

  /** `podman-compose run --rm` of a controller service (postgres is up already: --no-deps skips a rebuild). */
  async function controller(service: 'controller-a' | 'controller-b', ...args: string[]) {
    const r = await compose!(['run', '--rm', '--no-deps', '-T', service, ...args], 300_000);
    expect(r.stdout + r.stderr).not.toContain(password); // the password stays in the secrets
    return r;
  }

  beforeAll(async () => {
    const failed = await standinBuilt;
    if (failed) throw failed;
    const tree = join(dir, 'compose');
    for (const d of ['docker/secrets', 'inventory', 'home']) mkdirSync(join(tree, d), { recursive: true });
    copyFileSync(join(REPO, 'docker/compose.yaml'), join(tree, 'docker/compose.yaml'));
    password = randomBytes(18).toString('base64url');
    writeFileSync(join(tree, 'docker/secrets/pg_password'), password, { mode: 0o600 });
    writeFileSync(join(tree, 'docker/secrets/pg.env'), `PGPASSWORD=${password}\n`, { mode: 0o600 });
    compose = composeFor(podman, {
      dir,
      file: join(tree, 'docker/compose.yaml'),
      project,
      env: { HOME: join(tree, 'home'), ROLLGATE_IMAGE: IMAGE, ROLLGATE_POSTGRES_IMAGE: POSTGRES_STANDIN_IMAGE },
    });
    const up = await compose(['up', '-d', 'postgres']);
    if (up.podmanCode !== 0) throw new Error(`podman-compose up -d postgres failed:\n${up.stdout}\n${up.stderr}`);
    let ready = false;
    for (let i = 0; i < 120 && !ready; i++) {
      const r = await podman([
        'exec',
        `${project}_postgres_1`,
        'pg_isready',
        '-q',
        '-h',
        '127.0.0.1',
        '-U',
        'rollgate',
      ]);
      ready = r.code === 0;
      if (!ready) await sleep(1000);
    }
    if (!ready)
      throw new Error(`PostgreSQL did not come up:\n${(await podman(['logs', `${project}_postgres_1`])).stderr}`);
    // The fleet on the compose network's gateway (the host's side of its bridge), as the controllers see it.
    const net = await podman(['network', 'inspect', `${project}_default`]);
    const gateway = (JSON.parse(net.stdout) as Array<{ subnets: Array<{ gateway: string }> }>)[0]!.subnets[0]!.gateway;
    composeFleet = await startSshdFleet({
      count: 2,
      dir: join(dir, 'fleet-compose'),
      namePrefix: 'c',
      listenAddress: gateway,
    });
    // ${HOME}/.ssh as compose.yaml mounts it: OpenSSH's default key and known_hosts names, uid 10001 can read them.
    const ssh = ownedDir(join(tree, 'home/.ssh'));
    chmodSync(ssh, 0o700);
    copyFileSync(composeFleet.clientKey, join(ssh, 'id_ed25519'));
    copyFileSync(composeFleet.knownHosts, join(ssh, 'known_hosts'));
    for (const f of ['id_ed25519', 'known_hosts']) chownSync(join(ssh, f), UID, UID);
    chmodSync(join(ssh, 'id_ed25519'), 0o600);
    writeFileSync(
      join(tree, 'inventory/hosts.yml'),
      [
        'all:',
        '  vars:',
        `    ansible_host: ${gateway}`,
        `    ansible_user: ${FLEET_ADMIN_USER}`,
        '  hosts:',
        ...composeFleet.hosts.map((h) => `    ${h.name}:\n      ansible_port: ${h.port}`),
        '',
      ].join('\n'),
    );
    copyFileSync(join(ctl, 'play.yml'), join(tree, 'inventory/play.yml'));
  }, 1_200_000);

  afterAll(async () => {
    // Always, bounded: the containers, the pgdata volume, then the network (podman-compose 1.0.3 leaves it).
    if (compose) {
      const down = await compose(['down', '-v'], 120_000);
      if (down.code !== 0) console.error(`podman-compose down -v: ${down.stderr}`);
      await podman(['network', 'rm', '-f', `${project}_default`], 60_000);
    }
    await composeFleet?.stop();
    if (dir) removeFleetDir(join(dir, 'fleet-compose'));
  }, 300_000);

  it('controller-a runs `rollgate exec` and a play against the sshd hosts, its journal in the PostgreSQL service', async () => {
    const exec = await controller('controller-a', 'exec', '-i', '/inventory/hosts.yml', '--', 'uname', '-s');
    expect(exec.podmanCode, exec.stdout + exec.stderr).toBe(0);
    // Each host's line, then its output.
    for (const h of composeFleet!.hosts)
      expect(exec.stdout).toMatch(new RegExp(`^${h.name} \\| ok \\| rc=0 .*\\nLinux$`, 'm'));
    const ran = await controller('controller-a', 'run', '-i', '/inventory/hosts.yml', '/inventory/play.yml');
    expect(ran.podmanCode, ran.stdout + ran.stderr).toBe(0);
    for (const h of composeFleet!.hosts) expect(ran.stdout).toMatch(new RegExp(`${h.name}\\s*:\\s*ok=2`));
    const id = /^run (\S+): journal postgresql:\/\/rollgate@postgres:5432\/rollgate$/m.exec(ran.stdout);
    expect(id, ran.stdout).toBeTruthy();
    runIds.push(id![1]!);
  });

  it("controller-b runs a play in the same journal and lists controller-a's run; controller-a lists controller-b's", async () => {
    const ran = await controller(
      'controller-b',
      'run',
      '-i',
      '/inventory/hosts.yml',
      '/inventory/play.yml',
      '-l',
      'c02',
    );
    expect(ran.podmanCode, ran.stdout + ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/c02\s*:\s*ok=2/);
    const id = /^run (\S+): journal postgresql:\/\/rollgate@postgres:5432\/rollgate$/m.exec(ran.stdout);
    expect(id, ran.stdout).toBeTruthy();
    runIds.push(id![1]!);
    expect(runIds).toHaveLength(2);
    const listed = async (service: 'controller-a' | 'controller-b') => {
      const r = await controller(service, 'runs', '--json');
      expect(r.podmanCode, r.stdout + r.stderr).toBe(0);
      return r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { id: string; status: string });
    };
    for (const service of ['controller-b', 'controller-a'] as const) {
      const runs = await listed(service);
      expect(runs.map((r) => r.id).sort(), service).toEqual([...runIds].sort());
      expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
    }
  });
});
