/**
 * The journal kept in PostgreSQL (issue 15): the journal's contract suite (the one SQLite passes in the unit
 * project) against a real server the test starts, the schema created once however many controllers open it at
 * once, and the errors an operator sees for a malformed URL or a server that cannot be reached: named, and never
 * with the password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { JournalUnusableError } from '../../src/journal/journal-file.js';
import { DatabaseLostError } from '../../src/journal/database-lost.js';
import { LATEST_VERSION } from '../../src/journal/migrations/index.js';
import { journalContract } from '../journal/journal-contract.js';
import { startPostgres, type TestPostgres } from './support/postgres.js';

let server: TestPostgres;

/** A fresh database per case, so cases do not see each other's runs. */
async function freshDb(): Promise<string> {
  return server.freshDatabase();
}

beforeAll(async () => {
  server = await startPostgres();
}, 240_000);
afterAll(() => server?.stop());

journalContract('PostgreSQL', freshDb);

describe('a journal in PostgreSQL', () => {
  it('is created once when six controller processes open a new one at the same moment', async () => {
    const url = await freshDb();
    const dist = join(process.cwd(), 'dist/journal/journal.js');
    const script = `
      const { Journal } = await import(${JSON.stringify(dist)});
      const j = Journal.open(process.argv[1]);
      const run = j.createRun({ kind: 'run' });
      process.stdout.write(run.id + ' ' + j.store.schemaVersion());
      j.close();`;
    const outs = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script, url]);
            let out = '';
            let err = '';
            child.stdout.on('data', (d: Buffer) => (out += d.toString()));
            child.stderr.on('data', (d: Buffer) => (err += d.toString()));
            child.on('close', (code) => resolve({ code, out, err }));
          }),
      ),
    );
    for (const o of outs)
      expect(o, o.err).toMatchObject({ code: 0, out: expect.stringMatching(` ${LATEST_VERSION}$`) });
    const j = Journal.open(url);
    expect(j.listRuns()).toHaveLength(6);
    expect(j.path).toBe(url);
    j.close();
  }, 60_000);

  it("lets exactly one of eight controller processes take a dead controller's run lease at the same moment", async () => {
    const url = await freshDb();
    const setup = Journal.open(url);
    const id = setup.createRun({ kind: 'rollout' }).id;
    // A controller on another machine whose lease expired: every process may take it over, but only one may win.
    setup.store.run(
      'INSERT INTO run_leases (run_id, owner, token, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      id,
      'gone-machine:1',
      'dead',
      1,
      2,
    );
    setup.close();
    const dist = (f: string) => JSON.stringify(join(process.cwd(), 'dist/journal', f));
    const start = Date.now() + 4_000;
    // Connected first, then all take at one instant, each reading the clock slowly inside its transaction (a wide
    // window between reading the lease and writing it); the winner stays alive while the others look.
    const script = `
      const { Journal } = await import(${dist('journal.js')});
      const { takeLease } = await import(${dist('run-lease.js')});
      const j = Journal.open(process.argv[1]);
      const slowClock = () => (Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200), Date.now());
      while (Date.now() < ${start});
      const got = takeLease(j.store, process.argv[2], (fn) => fn(), slowClock);
      process.stdout.write(got.ok ? 'won' : 'refused');
      await new Promise((r) => setTimeout(r, 2500));
      j.close();`;
    const outs = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script, url, id]);
            let out = '';
            let err = '';
            child.stdout.on('data', (d: Buffer) => (out += d.toString()));
            child.stderr.on('data', (d: Buffer) => (err += d.toString()));
            child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
          }),
      ),
    );
    expect(outs.filter((o) => o === 'won')).toHaveLength(1);
    expect(outs.filter((o) => o === 'refused')).toHaveLength(7);
  }, 60_000);

  it('keeps 64-bit times and ids, as SQLite does', async () => {
    const j = Journal.open(await freshDb());
    const run = j.createRun({ kind: 'run' });
    j.addEvent(run.id, { type: 'run.started', at: 4_102_444_800_000 } as never);
    expect(j.listEvents(run.id)[0]?.at).toBe(4_102_444_800_000);
    j.close();
  });

  it('refuses a server that cannot be reached, naming it without the password', () => {
    const url = server.url.replace('rollgate@', 'rollgate:pa55word-xyz@').replace(/port=\d+/, 'port=1');
    let caught: unknown;
    try {
      Journal.open(url);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(JournalUnusableError);
    const message = (caught as Error).message;
    expect(message).toMatch(/cannot connect to PostgreSQL/);
    expect(message).toContain('rollgate@localhost');
    expect(message).not.toContain('pa55word-xyz');
  });

  it('refuses a malformed URL without the password', () => {
    let caught: unknown;
    try {
      Journal.open('postgresql://rollgate:pa55word-xyz@localhost:notaport/db');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(JournalUnusableError);
    expect((caught as Error).message).toMatch(/cannot connect to PostgreSQL \(.*port/);
    expect((caught as Error).message).not.toContain('pa55word-xyz');
  });
});

/**
 * The connection ended by the server while a statement is in flight (another process terminates it after
 * `afterMs`; this thread is blocked in the synchronous call meanwhile): what may run twice runs again on a new
 * connection, what may not stops the journal.
 */
describe('a journal in PostgreSQL whose connection is ended mid-statement', () => {
  /** A psql that ends every other connection to the database after `afterMs` (started before the call blocks). */
  function terminateSoon(url: string, afterMs = 500): ChildProcess {
    return spawn('psql', [
      url,
      '-qAt',
      '-c',
      `SELECT pg_sleep(${afterMs / 1000})`,
      '-c',
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    ]);
  }
  const exited = (child: ChildProcess) =>
    new Promise<number | null>((resolve) =>
      child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', (code) => resolve(code)),
    );

  it('runs a read again on a new connection', async () => {
    const j = Journal.open(await freshDb());
    const killer = terminateSoon(j.path);
    expect(j.store.get('SELECT 7 AS n FROM pg_sleep(2)')?.n).toBe(7);
    expect(await exited(killer)).toBe(0);
    expect(j.listRuns()).toEqual([]);
    j.close();
  }, 30_000);

  it('runs a transaction broken before its COMMIT again from its start: its rows are stored once', async () => {
    const j = Journal.open(await freshDb());
    const run = j.createRun({ kind: 'run' });
    const killer = terminateSoon(j.path);
    let passes = 0;
    j.store.transaction(() => {
      passes++;
      j.store.run('INSERT INTO events (run_id, host, type, at, data) VALUES (?, NULL, ?, ?, ?)', run.id, 't', 1, '{}');
      j.store.get('SELECT pg_sleep(2)');
    });
    expect(await exited(killer)).toBe(0);
    expect(passes).toBe(2);
    expect(j.listEvents(run.id)).toHaveLength(1);
    j.close();
  }, 30_000);

  it('does not write a plain INSERT twice whose outcome was lost: the journal stops, naming itself without the password', async () => {
    const url = (await freshDb()).replace('rollgate@', 'rollgate:pa55word-xyz@');
    const j = Journal.open(url);
    const run = j.createRun({ kind: 'run' });
    const killer = terminateSoon(url);
    let caught: unknown;
    try {
      j.store.run(
        "INSERT INTO events (run_id, host, type, at, data) SELECT ?, NULL, 't', 1, '{}' FROM pg_sleep(2)",
        run.id,
      );
    } catch (err) {
      caught = err;
    }
    expect(await exited(killer)).toBe(0);
    expect(caught).toBeInstanceOf(DatabaseLostError);
    const message = (caught as Error).message;
    expect(message).toContain(`the journal ${j.path} lost its connection while a write was in flight`);
    expect(message).toContain('whether it was stored is unknown, and it is not written twice');
    expect(message).not.toContain('pa55word-xyz');
    // Lost for good in this process: nothing more is written through it, even with the server up.
    expect(() => j.addEvent(run.id, { type: 'run.started', at: 2 } as never)).toThrow(DatabaseLostError);
    j.close();
    const again = Journal.open(url);
    expect(again.listEvents(run.id)).toEqual([]); // the server rolled the statement back with its connection
    again.close();
  }, 30_000);

  it('opens a connection the server ended while it was idle again before sending, and runs a plain INSERT on it', async () => {
    const j = Journal.open(await freshDb());
    const run = j.createRun({ kind: 'run' });
    expect(await server.terminateConnections(j.path)).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 200));
    j.addEvent(run.id, { type: 'run.started', at: 3 } as never);
    expect(j.listEvents(run.id)).toHaveLength(1);
    j.close();
  }, 30_000);
});
