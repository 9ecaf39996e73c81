/**
 * The journal kept in PostgreSQL (issue 15): the journal's contract suite (the one SQLite passes in the unit
 * project) against a real server the test starts, the schema created once however many controllers open it at
 * once, and the errors an operator sees for a malformed URL or a server that cannot be reached: named, and never
 * with the password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { JournalUnusableError } from '../../src/journal/journal-file.js';
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
