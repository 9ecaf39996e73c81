/**
 * The fleet lock shared by several controllers through PostgreSQL (issue 15): the same contract as the SQLite
 * lock on a real server, processes racing for one host and for a cluster's down slots, and the CLI taking its
 * lock from ROLLGATE_FLEET_LOCK_URL while each controller keeps its own journal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PgFleetLock } from '../../src/journal/pg-fleet-lock.js';
import { fleetLockContract } from '../journal/fleet-lock-contract.js';
import { startPostgres, type TestPostgres } from './support/postgres.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { FLEET_ADMIN_USER, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { startFleet } from './support/module-host.js';
import { rollgate } from './support/cli.js';
import { Journal } from '../../src/journal/journal.js';
import { fleetLockShown } from '../../src/cli/fleet-lock-option.js';

let server: TestPostgres;

/** A fresh database per case, so cases do not see each other's locks. */
async function freshDb(): Promise<string> {
  return server.freshDatabase();
}

beforeAll(async () => {
  server = await startPostgres();
}, 240_000);
afterAll(() => server?.stop());

fleetLockContract('PostgreSQL, two controllers', async () => {
  const url = await freshDb();
  const locks: PgFleetLock[] = [];
  const make = (now?: () => number) => {
    const l = now ? new PgFleetLock(url, now) : new PgFleetLock(url);
    locks.push(l);
    return l;
  };
  return {
    a: make(),
    b: make(),
    clocked: (now) => make(now),
    done: async () => void (await Promise.all(locks.map((l) => l.close()))),
  };
});

describe('controllers as separate processes on one PostgreSQL lock', () => {
  it('exactly one of eight processes wins a shared host, and exactly two a cluster of max_down 2', async () => {
    const url = await freshDb();
    const dist = join(process.cwd(), 'dist/journal/pg-fleet-lock.js');
    const script = `
      const { PgFleetLock } = await import(${JSON.stringify(dist)});
      const lock = new PgFleetLock(process.env.URL);
      const i = process.env.I;
      const host = await lock.acquireHostLocks('run-' + i, ['shared', 'own-' + i]);
      const slot = await lock.acquireDownSlot('run-' + i, 'rack1', 'h' + i, 2);
      process.stdout.write(JSON.stringify({ host: host.ok, slot: slot.ok }));
      await lock.close();`;
    const one = (i: number) =>
      new Promise<{ host: boolean; slot: boolean }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
          env: { ...process.env, URL: url, I: String(i) },
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          if (code === 0) resolve(JSON.parse(out) as { host: boolean; slot: boolean });
          else reject(new Error(`controller ${i} exited ${code}: ${err}`));
        });
      });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => one(i)));
    expect(results.filter((r) => r.host)).toHaveLength(1);
    expect(results.filter((r) => r.slot)).toHaveLength(2);
    const lock = new PgFleetLock(url);
    expect((await lock.listHostLocks()).filter((l) => l.host === 'shared')).toHaveLength(1);
    expect(await lock.listDownSlots('rack1')).toHaveLength(2);
    await lock.close();
  }, 120_000);
});

describe('the CLI with ROLLGATE_FLEET_LOCK_URL: two controllers, two journals, one lock', () => {
  let fleet: SshdFleet;
  let dir: string;
  beforeAll(async () => {
    fleet = await startFleet(1);
    dir = mkdtempSync(join(tmpdir(), 'rg-pglock-'));
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a host another controller's run holds, and runs once it is released", async () => {
    const url = await freshDb();
    const h = fleet.hosts[0]!;
    const inv = join(dir, 'hosts.yml');
    writeFileSync(
      inv,
      `all:\n  hosts:\n    ${h.name}:\n      ansible_host: 127.0.0.1\n      ansible_port: ${h.port}\n      ansible_user: ${FLEET_ADMIN_USER}\n      ansible_ssh_private_key_file: ${fleet.clientKey}\n      rollgate_known_hosts_file: ${fleet.knownHosts}\n`,
    );
    const play = join(dir, 'play.yml');
    writeFileSync(play, '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: "true"\n');
    // The other controller (its own journal, elsewhere) holds the machine for its run.
    const other = new PgFleetLock(url);
    expect(
      (await other.acquireHostLocks('run-of-site-b', [{ host: h.name, machine: `addr:127.0.0.1:${h.port}` }])).ok,
    ).toBe(true);
    const env = { ROLLGATE_FLEET_LOCK_URL: url };
    const refused = await rollgate(['run', play, '-i', inv, '--journal', join(dir, 'a.db')], env);
    expect(refused.code, refused.stderr).toBe(5);
    expect(refused.stderr).toMatch(
      /is locked by run run-of-site-b: run run-of-site-b is not in this journal: it belongs to the controller \S+:\d+, which shares the fleet lock, and may be running there/,
    );
    // Without the shared lock this controller would not have known: its own journal holds no lock.
    await other.releaseHostLocks('run-of-site-b');
    const ran = await rollgate(['run', play, '-i', inv, '--journal', join(dir, 'a.db')], env);
    expect(ran.code, ran.stderr).toBe(0);
    // Its locks were taken and released in PostgreSQL: nothing is left behind.
    expect(await other.listHostLocks()).toEqual([]);
    // The same lock through --fleet-lock (no environment variable), from a controller with another journal.
    expect(
      (await other.acquireHostLocks('run-of-site-c', [{ host: h.name, machine: `addr:127.0.0.1:${h.port}` }])).ok,
    ).toBe(true);
    const byFlag = await rollgate(['run', play, '-i', inv, '--journal', join(dir, 'c.db'), '--fleet-lock', url]);
    expect(byFlag.code, byFlag.stderr).toBe(5);
    expect(byFlag.stderr).toMatch(/is locked by run run-of-site-c/);
    await other.releaseHostLocks('run-of-site-c');
    await other.close();
    const badFlag = await rollgate(['run', play, '-i', inv, '--journal', join(dir, 'c.db'), '--fleet-lock', 'x']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--fleet-lock is not a PostgreSQL connection string/);
    const bad = await rollgate(['run', play, '-i', inv, '--journal', join(dir, 'a.db')], {
      ROLLGATE_FLEET_LOCK_URL: 'mysql://x',
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/ROLLGATE_FLEET_LOCK_URL is not a PostgreSQL connection string/);
  }, 120_000);
});

describe('resume under the fleet lock the rollout started with', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rg-pglock-resume-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A rollout run as `rollgate rollout` journals it (killed before it did anything), under `fleetLock` or none. */
  function rolloutRun(file: string, fleetLock?: string): string {
    const journal = Journal.open(join(dir, file));
    try {
      return journal.createRun({
        kind: 'rollout',
        playbook: join(dir, 'play.yml'),
        inventory: [join(dir, 'hosts.yml')],
        options: { extraVars: {}, connection: {}, ...(fleetLock ? { fleetLock } : {}) },
      }).id;
    } finally {
      journal.close();
    }
  }

  it('refuses a resume without the run lock (or with one the run did not use), naming the lock to give', async () => {
    const url = await freshDb();
    const shown = fleetLockShown(`${url}`.replace('postgres://rollgate@', 'postgres://rollgate:s3cret@'));
    expect(shown).not.toContain('s3cret');
    const shared = rolloutRun('shared.db', shown);
    const none = await rollgate(['resume', shared, '--journal', join(dir, 'shared.db')], {
      ROLLGATE_FLEET_LOCK_URL: '',
    });
    expect(none.code, none.stderr).toBe(2);
    expect(none.stderr).toContain(
      `run ${shared} holds its hosts in the fleet lock at ${shown}; this resume has no fleet lock`,
    );
    expect(none.stderr).toContain(`rollgate resume ${shared} --fleet-lock ${shown}`);
    const local = rolloutRun('local.db');
    const other = await rollgate(['resume', local, '--journal', join(dir, 'local.db'), '--fleet-lock', url]);
    expect(other.code, other.stderr).toBe(2);
    expect(other.stderr).toContain(`run ${local} kept its host locks in this controller's journal`);
  });
});
