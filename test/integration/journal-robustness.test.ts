/**
 * The journal under another process and bad files, through the CLI: a run waits for a journal a `sqlite3` shell
 * holds (it used to crash with exit 70 after 5 s, its run left `running` and its step `pending`); a journal that
 * cannot be used is exit 2 with what to do, never a stack. Real sshd host, real sqlite3 process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLEET_ADMIN_USER, startSshdFleet, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { ensureBuilt, rollgate } from './support/cli.js';

let fleet: SshdFleet;
let dir: string;
const CLI = new URL('../../bin/rollgate.js', import.meta.url).pathname;

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'rg-jrobust-'));
  chmodSync(dir, 0o755);
  fleet = await startSshdFleet({ count: 1, dir: join(dir, 'fleet') });
  const h = fleet.hosts[0]!;
  writeFileSync(
    join(dir, 'inv.yml'),
    `all:\n  hosts:\n    ${h.name}:\n      ansible_host: 127.0.0.1\n      ansible_port: ${h.port}\n      ansible_user: ${FLEET_ADMIN_USER}\n      ansible_ssh_private_key_file: ${fleet.clientKey}\n      rollgate_known_hosts_file: ${fleet.knownHosts}\n`,
  );
  const sleeps = Array.from(
    { length: 6 },
    (_, i) => `    - name: beat ${i}\n      command: sleep 1\n      changed_when: false\n`,
  ).join('');
  writeFileSync(join(dir, 'play.yml'), `- hosts: all\n  tasks:\n${sleeps}`);
});
afterAll(async () => {
  await fleet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { timeout: 90_000, env: { ...process.env, SSH_AUTH_SOCK: '' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

async function until<T>(what: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  // Bounded by the deadline.
  while (Date.now() < end) {
    const v = what();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

describe('a journal another process holds', () => {
  it('makes a running playbook wait for it (8 s) instead of crashing', async () => {
    const journal = join(dir, 'busy.db');
    const run = runCli(['run', join(dir, 'play.yml'), '-i', join(dir, 'inv.yml'), '--journal', journal]);
    // Once the run has journaled its first step, a sqlite3 shell takes the write lock for 8 s.
    await until(() => {
      if (!existsSync(journal)) return undefined;
      const db = new Database(journal, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM steps').get() as { n: number }).n > 0 ? true : undefined;
      } catch {
        return undefined;
      } finally {
        db.close();
      }
    }, 30_000);
    const holder = spawn('sh', [
      '-c',
      `(echo 'BEGIN IMMEDIATE;'; echo "SELECT 'locked';"; sleep 8; echo 'COMMIT;') | sqlite3 ${journal}`,
    ]);
    await new Promise<void>((resolve) =>
      holder.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve()),
    );
    const r = await run;
    expect(r.stderr).toContain(
      `rollgate: the journal ${journal} is locked by another process; waiting for it (at most 30 s)`,
    );
    expect(r.stderr).not.toContain('internal error');
    expect(r.code).toBe(0);
    const db = new Database(journal, { readonly: true });
    expect(db.prepare("SELECT status FROM runs WHERE kind = 'run'").all()).toEqual([{ status: 'succeeded' }]);
    expect(db.prepare('SELECT status, count(*) AS n FROM steps GROUP BY status').all()).toEqual([
      { status: 'applied', n: 6 },
    ]);
    db.close();
  });
});

describe('a journal that cannot be used', () => {
  it('is bad input (exit 2) naming the file and what to do, before any host is contacted', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    const garbage = join(bad, 'garbage.db');
    writeFileSync(garbage, 'not sqlite\n'.repeat(100));
    const newer = join(bad, 'newer.db');
    const db = new Database(newer);
    db.pragma('user_version = 42');
    db.close();
    const cases: Array<[string, RegExp]> = [
      [
        garbage,
        /^journal \S+garbage\.db: not a usable SQLite journal \(file is not a database, SQLITE_NOTADB\)\. move it aside \(mv \S+ \S+\.broken\) to start a new journal, or use --journal PATH/,
      ],
      [
        newer,
        /^journal \S+newer\.db: its schema version 42 is newer than this rollgate understands \(\d+\): a newer rollgate wrote it\. upgrade rollgate, or move it aside/,
      ],
      [bad, /^journal \S+bad: cannot be created or opened \(EISDIR: [^)]*\)\. use --journal PATH/],
    ];
    for (const [path, message] of cases) {
      for (const args of [
        ['runs'],
        ['run', join(dir, 'play.yml'), '-i', join(dir, 'inv.yml')],
        ['resume', 'some-run'],
        ['undo', 'some-run'],
      ]) {
        const r = await rollgate([...args, '--journal', path]);
        expect(r.stderr, `${args[0]} ${path}`).toMatch(message);
        expect(r.code).toBe(2);
      }
    }
  });

  // The -wal and -shm files are gone once the last connection closes: journal-file.test.ts checks them open.
  it('is created private under the operator umask: directory 0700, database 0600', async () => {
    const journal = join(dir, 'private', 'state', 'journal.db');
    const r = await new Promise<number>((resolve) =>
      execFile('sh', ['-c', `umask 000 && exec ${process.execPath} ${CLI} runs --journal ${journal}`], (err) =>
        resolve(err ? 1 : 0),
      ),
    );
    expect(r).toBe(0);
    const { statSync } = await import('node:fs');
    const m = (p: string) => (statSync(p).mode & 0o777).toString(8);
    expect([m(join(dir, 'private')), m(join(dir, 'private', 'state')), m(journal)]).toEqual(['700', '700', '600']);
  });
});
