/**
 * Two controllers contending for 1,000 hosts' locks in one PostgreSQL (issue 15, item 5): a property test with
 * random interleavings. Each controller is its own process with its own PgFleetLock; from a seeded random sequence
 * it takes batches of hosts (six draws in ten from a hot hundred, so the walks collide), takes down-slots of clusters (1,000 hosts in 50 clusters, max_down 2) for hosts it
 * holds, and gives them back, with random pauses between. The oracle is a mutual-exclusion check outside the lock:
 * right after the lock grants a host, the controller inserts a row into a table whose host column is UNIQUE, and
 * deletes it right before releasing; a down-slot likewise goes into a table whose rows per cluster are counted
 * after each insert. Those rows are always a subset of what the lock has granted, so if the lock ever gave one host
 * to both controllers (or a third slot of a cluster), an insert fails or a count exceeds 2 — nothing else can make
 * them. At the end the locks the database holds per run are exactly what each controller believes it holds.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgFleetLock } from '../../src/journal/pg-fleet-lock.js';
import { startPostgres, type TestPostgres } from './support/postgres.js';

const HOSTS = 1000;
const CLUSTERS = 50;
const MAX_DOWN = 2;
const OPS = 300;

let server: TestPostgres;

async function freshDb(): Promise<string> {
  const url = await server.freshDatabase();
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  await db.query('CREATE TABLE occupancy (host text PRIMARY KEY, owner text NOT NULL)');
  await db.query('CREATE TABLE ready (owner text NOT NULL)');
  await db.query('CREATE TABLE down_occupancy (cluster text NOT NULL, host text NOT NULL, owner text NOT NULL)');
  await db.end();
  return url;
}

beforeAll(async () => {
  server = await startPostgres();
}, 240_000);
afterAll(() => server?.stop());

/** One controller: a seeded random walk over take / give back hosts and down-slots, checked by the oracle. */
const WORKER = `
  const { createRequire } = await import('node:module');
  const pg = createRequire(process.cwd() + '/')('pg');
  const { PgFleetLock } = await import(process.env.DIST);
  const me = process.env.ME;
  const runId = 'run-' + me;
  let s = Number(process.env.SEED) >>> 0;
  const rand = () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const lock = new PgFleetLock(process.env.URL);
  const oracle = new pg.Client({ connectionString: process.env.URL });
  await oracle.connect();
  // Both walks start together (a slow start of one process under load must not leave the other walking alone).
  await oracle.query('INSERT INTO ready (owner) VALUES ($1)', [me]);
  for (let i = 0; i < 600; i++) {
    const { rows } = await oracle.query('SELECT count(*)::int AS n FROM ready');
    if (rows[0].n >= 2) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  const HOSTS = ${HOSTS}, CLUSTERS = ${CLUSTERS}, MAX_DOWN = ${MAX_DOWN};
  const held = new Set();
  const slots = new Map();
  const stats = { granted: 0, refused: 0, slotGranted: 0, slotRefused: 0, released: 0, violations: [] };
  const clusterOf = (h) => 'c' + Math.floor(Number(h.slice(1)) / (HOSTS / CLUSTERS));
  const giveSlot = async (h) => {
    const c = slots.get(h);
    await oracle.query('DELETE FROM down_occupancy WHERE host = $1 AND owner = $2', [h, me]);
    slots.delete(h);
    await lock.releaseDownSlot(runId, c, h);
  };
  for (let i = 0; i < ${OPS}; i++) {
    const r = rand();
    if (r < 0.4) {
      // Six draws in ten from a hot hundred (the first five clusters), so the two walks collide; the rest anywhere.
      const pick = () => 'h' + Math.floor(rand() * (rand() < 0.6 ? 100 : HOSTS));
      const want = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 20) }, pick))]
        .filter((h) => !held.has(h));
      if (!want.length) continue;
      const out = await lock.acquireHostLocks(runId, want);
      if (!out.ok) { stats.refused++; continue; }
      stats.granted++;
      for (const h of want) {
        held.add(h);
        try { await oracle.query('INSERT INTO occupancy (host, owner) VALUES ($1, $2)', [h, me]); }
        catch (e) { stats.violations.push('host ' + h + ' granted to ' + me + ' while held: ' + e.message); }
      }
    } else if (r < 0.6) {
      const give = [...held].filter(() => rand() < 0.25);
      if (!give.length) continue;
      for (const h of give) if (slots.has(h)) await giveSlot(h);
      await oracle.query('DELETE FROM occupancy WHERE host = ANY($1) AND owner = $2', [give, me]);
      for (const h of give) held.delete(h);
      await lock.releaseHostLocks(runId, give);
      stats.released += give.length;
    } else if (r < 0.9) {
      const free = [...held].filter((h) => !slots.has(h));
      if (!free.length) continue;
      const h = free[Math.floor(rand() * free.length)];
      const c = clusterOf(h);
      const out = await lock.acquireDownSlot(runId, c, h, MAX_DOWN);
      if (!out.ok) { stats.slotRefused++; continue; }
      stats.slotGranted++;
      slots.set(h, c);
      await oracle.query('INSERT INTO down_occupancy (cluster, host, owner) VALUES ($1, $2, $3)', [c, h, me]);
      const { rows } = await oracle.query('SELECT count(*)::int AS n FROM down_occupancy WHERE cluster = $1', [c]);
      if (rows[0].n > MAX_DOWN) stats.violations.push('cluster ' + c + ' has ' + rows[0].n + ' hosts down');
    } else {
      const down = [...slots.keys()];
      if (down.length) await giveSlot(down[Math.floor(rand() * down.length)]);
    }
    if (rand() < 0.3) await new Promise((res) => setTimeout(res, Math.floor(rand() * 4)));
  }
  await oracle.end();
  await lock.close();
  process.stdout.write(JSON.stringify({ ...stats, held: [...held].sort(), slots: [...slots.keys()].sort() }));`;

interface Outcome {
  granted: number;
  refused: number;
  slotGranted: number;
  slotRefused: number;
  released: number;
  violations: string[];
  held: string[];
  slots: string[];
}

function controller(url: string, me: string, seed: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', WORKER], {
      env: {
        ...process.env,
        URL: url,
        ME: me,
        SEED: String(seed),
        DIST: join(process.cwd(), 'dist/journal/pg-fleet-lock.js'),
      },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out) as Outcome);
      else reject(new Error(`controller ${me} (seed ${seed}) exited ${code}: ${err}`));
    });
  });
}

describe('two controllers contending for 1,000 hosts in one PostgreSQL lock', () => {
  for (const seed of [1, 2, 3]) {
    it(`never gives a host to both, nor a third down-slot of a cluster (seeds ${seed} and ${seed + 100})`, async () => {
      const url = await freshDb();
      const [a, b] = await Promise.all([controller(url, 'A', seed), controller(url, 'B', seed + 100)]);
      console.info(
        `[fleet-lock property] seed ${seed}: A ${JSON.stringify({ ...a, held: a.held.length, slots: a.slots.length })}, B ${JSON.stringify({ ...b, held: b.held.length, slots: b.slots.length })}`,
      );
      expect(a.violations).toEqual([]);
      expect(b.violations).toEqual([]);
      // The walk contended: both were granted hosts and refused some, and slots were taken and refused.
      expect(Math.min(a.granted, b.granted)).toBeGreaterThan(10);
      expect(a.refused + b.refused).toBeGreaterThan(0);
      expect(a.slotGranted + b.slotGranted).toBeGreaterThan(10);
      expect(a.slotRefused + b.slotRefused).toBeGreaterThan(0);
      // What the database holds per run is exactly what each controller believes it holds.
      const lock = new PgFleetLock(url);
      try {
        const locks = await lock.listHostLocks();
        const of = (run: string) =>
          locks
            .filter((l) => l.runId === run)
            .map((l) => l.host)
            .sort();
        expect(of('run-A')).toEqual(a.held);
        expect(of('run-B')).toEqual(b.held);
        expect(a.held.filter((h) => b.held.includes(h))).toEqual([]);
        const down = await lock.listDownSlots();
        expect(
          down
            .filter((d) => d.runId === 'run-A')
            .map((d) => d.host)
            .sort(),
        ).toEqual(a.slots);
        expect(
          down
            .filter((d) => d.runId === 'run-B')
            .map((d) => d.host)
            .sort(),
        ).toEqual(b.slots);
        const perCluster = new Map<string, number>();
        for (const d of down) perCluster.set(d.cluster, (perCluster.get(d.cluster) ?? 0) + 1);
        expect(Math.max(0, ...perCluster.values())).toBeLessThanOrEqual(MAX_DOWN);
      } finally {
        await lock.close();
      }
    }, 200_000);
  }
});
