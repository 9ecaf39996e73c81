/**
 * Several controllers sharing one journal in PostgreSQL (issue 15), as real CLI processes against real sshd hosts:
 * controller A (its own HOME and state directory) runs, is killed with kill -9, and controller B (another HOME,
 * another state directory, nothing local of A's) lists A's run, resumes A's rollout to its end or undoes A's run,
 * from the same PostgreSQL journal given by --journal or ROLLGATE_JOURNAL. A fleet lock on another database is
 * refused with the journal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshdFleet, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { Journal } from '../../src/journal/journal.js';
import { buildRoot } from './support/fake-root.js';
import { useRealGrubTools } from './support/grub-root.js';
import { removeRoot, tempRoot } from './support/module-host.js';
import { ensureBuilt, rollgate } from './support/cli.js';
import { startCli, until, type Running } from './support/cli-process.js';
import { controllerEnv, fakeBootInventory } from './support/controllers.js';
import { startPostgres, type TestPostgres } from './support/postgres.js';

let server: TestPostgres;
let fleet: SshdFleet;
let dir: string;
const roots: string[] = [];

async function freshDb(): Promise<string> {
  return server.freshDatabase();
}

const controller = (name: string) => controllerEnv(dir, name);
const inventory = () => fakeBootInventory(dir, fleet, roots);

/** A look into the shared journal, read from this test process (a third controller). */
function peek<T>(url: string, read: (j: Journal) => T): T {
  const j = Journal.open(url);
  try {
    return read(j);
  } finally {
    j.close();
  }
}

/** Wait for `what` while controller A works; A exiting first fails with what it printed. */
async function whileRunning<T>(a: Running, what: () => T | undefined, ms: number): Promise<T> {
  let over = false;
  const early = a.done.then((r) => {
    if (!over) throw new Error(`controller A exited (${r.code ?? r.signal}) first: ${r.stdout}${r.stderr}`);
  });
  try {
    return await Promise.race([until(what, ms), early.then(() => undefined as never)]);
  } finally {
    over = true;
  }
}

/** The run holding a host in the journal's fleet lock (its table exists once a run has locked a host). */
const lockingRun = (url: string) => () => {
  try {
    return peek(url, (j) => j.store.get('SELECT run_id FROM fleet_host_locks')?.run_id as string | undefined);
  } catch {
    return undefined;
  }
};

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'rg-pgjournal-'));
  chmodSync(dir, 0o755);
  server = await startPostgres();
  fleet = await startSshdFleet({ count: 2, dir: join(dir, 'fleet') });
  for (let i = 0; i < 2; i++) {
    const r = tempRoot(`pgj${i}`);
    buildRoot(r, 'debian');
    useRealGrubTools(r, { grubenv: 'created' });
    roots.push(r);
  }
}, 240_000);
afterAll(async () => {
  await fleet?.stop();
  server?.stop();
  roots.forEach(removeRoot);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('two controllers, one journal in PostgreSQL', () => {
  it("resumes on controller B a rollout controller A started and was killed in (kill -9) (one of two racing resumes wins), and B's `runs` lists it", async () => {
    const url = await freshDb();
    const inv = inventory();
    const play = join(dir, 'rollout.yml');
    writeFileSync(
      play,
      '- hosts: h02\n  tasks:\n    - name: slow\n      command: sleep 4\n      changed_when: false\n',
    );
    const a = startCli(['rollout', play, '-i', inv, '--journal', url, '--yes'], controller('a'));
    // A holds its host in the journal's fleet lock (PostgreSQL): kill it before the host starts.
    const id = await whileRunning(a, lockingRun(url), 30_000);
    a.child.kill('SIGKILL');
    await a.done;
    expect(peek(url, (j) => j.listSteps(id).filter((s) => s.task === 'slow'))).toEqual([]);

    // B: another HOME and state directory, the journal from ROLLGATE_JOURNAL.
    const b = { ...controller('b'), ROLLGATE_JOURNAL: url };
    const listed = await rollgate(['runs'], b);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout + listed.stderr).not.toMatch(/password/i);
    // A's lock is in B's way too, and the refusal names the way out from B.
    const quick = join(dir, 'quick.yml');
    writeFileSync(quick, '- hosts: all\n  tasks:\n    - name: quick\n      command: "true"\n');
    const blocked = await rollgate(['run', quick, '-i', inv, '--limit', 'h02'], b);
    expect(blocked.code, blocked.stderr).toBe(5);
    expect(blocked.stderr).toContain(`\`rollgate resume ${id}\` finishes it or rolls it back`);

    // B and a third controller C resume it at the same moment: exactly one takes the run over.
    const c = { ...controller('c'), ROLLGATE_JOURNAL: url };
    const both = await Promise.all([rollgate(['resume', id, '--yes'], b), rollgate(['resume', id, '--yes'], c)]);
    expect(both.map((r) => r.code).sort(), both.map((r) => r.stdout + r.stderr).join('\n')).toEqual([0, 5]);
    expect(both.find((r) => r.code === 5)!.stderr).toMatch(
      new RegExp(`^rollgate resume: refused:\\nrun ${id} is still in progress: its controller \\S+ is alive`),
    );
    expect(peek(url, (j) => j.getRun(id)?.status)).toBe('succeeded');
    // The host's turn ran once, by the winner (under the resume, in the same journal).
    expect(peek(url, (j) => j.store.get("SELECT count(*) AS n FROM steps WHERE task = 'slow'")?.n)).toBe('1');
    // Nothing was written to either controller's local journal file.
    expect(existsSync(join(dir, 'a', 'state', 'rollgate', 'journal.db'))).toBe(false);
    expect(existsSync(join(dir, 'b', 'state', 'rollgate', 'journal.db'))).toBe(false);
    expect(peek(url, (j) => j.store.all('SELECT * FROM fleet_host_locks'))).toEqual([]);
  }, 120_000);

  it('undoes on controller B the changes of a run controller A was killed in (kill -9)', async () => {
    const url = await freshDb();
    const inv = inventory();
    const marker = join(roots[0]!, 'etc', 'pg-journal-marker');
    rmSync(marker, { force: true });
    const play = join(dir, 'change-then-slow.yml');
    writeFileSync(
      play,
      '- hosts: h01\n  become: true\n  tasks:\n    - name: write\n      command:\n        cmd: touch {{ rollgate_root }}/etc/pg-journal-marker\n        undo: rm -f {{ rollgate_root }}/etc/pg-journal-marker\n    - name: slow\n      command: sleep 30\n',
    );
    const a = startCli(['run', play, '-i', inv, '--journal', url], controller('a'));
    const pending = () =>
      peek(url, (j) => j.store.get("SELECT run_id FROM steps WHERE task = 'slow' AND status = 'pending'"));
    const id = String((await whileRunning(a, pending, 60_000)).run_id);
    a.child.kill('SIGKILL');
    await a.done;
    expect(existsSync(marker)).toBe(true);

    const undone = await rollgate(['undo', id, '--journal', url, '--become'], controller('b'));
    expect(undone.code, undone.stdout + undone.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(peek(url, (j) => j.listSteps(id).find((s) => s.task === 'write')?.undoneBy)).toBeTruthy();
  }, 120_000);

  it('refuses a --fleet-lock on another database than the journal, and takes one on the same database as it', async () => {
    const url = await freshDb();
    const other = await freshDb();
    const refused = await rollgate(['runs', '--journal', url, '--fleet-lock', other], controller('c'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('names another database than the journal');
    const same = await rollgate(['runs', '--journal', url, '--fleet-lock', url], controller('c'));
    expect(same.code, same.stderr).toBe(0);
  });
});
