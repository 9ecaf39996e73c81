import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuilt } from './support/cli.js';

const dist = join(import.meta.dirname, '..', '..', 'dist', 'journal', 'journal.js');
const distLease = join(import.meta.dirname, '..', '..', 'dist', 'journal', 'run-lease.js');
let dir: string;

/** A separate controller process: open the journal, try to lock the hosts for its run, print the outcome. */
function controller(db: string, runId: string, hosts: string[]): Promise<{ ok: boolean }> {
  const script = `
    const { Journal } = await import(${JSON.stringify(pathToFileURL(dist).href)});
    const j = Journal.open(${JSON.stringify(db)});
    const out = await j.fleetLock().acquireHostLocks(${JSON.stringify(runId)}, ${JSON.stringify(hosts)});
    j.close();
    process.stdout.write(JSON.stringify(out));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout) as { ok: boolean });
    });
  });
}

/** A separate process resuming a run: take its lease (over a dead controller's), print whether it got it. */
function resumer(db: string, runId: string): Promise<{ ok: boolean }> {
  const script = `
    const { Journal } = await import(${JSON.stringify(pathToFileURL(dist).href)});
    const { takeLease } = await import(${JSON.stringify(pathToFileURL(distLease).href)});
    const j = Journal.open(${JSON.stringify(db)});
    const out = takeLease(j.store, ${JSON.stringify(runId)}, (fn) => j.write(fn));
    process.stdout.write(JSON.stringify({ ok: out.ok }));
    // Stay alive a moment: a resume that won keeps working (its pid alive, its lease fresh) while the others try.
    setTimeout(() => j.close(), 5000);`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout) as { ok: boolean });
    });
  });
}

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'rg-lockproc-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fleet lock across controller processes', () => {
  it('lets exactly one of several simultaneous controllers lock a shared host', async () => {
    const db = join(dir, 'journal.db');
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => controller(db, `run-${i}`, [`own-${i}`, 'shared'])),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    // The losers took nothing: their own hosts are still free for anyone.
    const later = await controller(
      db,
      'run-late',
      Array.from({ length: 6 }, (_, i) => `own-${i}`).filter((_, i) => !results[i]!.ok),
    );
    expect(later.ok).toBe(true);
  });

  it("lets exactly one of several simultaneous resumes take over a dead controller's run", async () => {
    const db = join(dir, 'leases.db');
    const { Journal } = await import('../../src/journal/journal.js');
    const j = Journal.open(db);
    const runId = j.createRun({ kind: 'rollout' }).id;
    // Its controller died on another machine: its lease expired a second ago.
    j.db
      .prepare('INSERT INTO run_leases (run_id, owner, token, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(runId, 'elsewhere:77', 'dead', Date.now() - 61_000, Date.now() - 1000);
    j.close();
    const results = await Promise.all(Array.from({ length: 6 }, () => resumer(db, runId)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });
});
