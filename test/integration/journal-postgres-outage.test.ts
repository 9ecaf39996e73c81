/**
 * A journal in PostgreSQL whose server goes away in the middle of a run (issue 15), as real CLI processes against
 * real sshd hosts and a real server the test stops and starts: a brief outage (the server restarted, or every
 * connection terminated) is survived and the run ends as it would have; a lasting one stops the controller before
 * its next change with a clear message and exit 8, and once the server is back another controller's
 * `rollgate resume` ends the run.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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

const controller = (name: string) => controllerEnv(dir, name);
const inventory = () => fakeBootInventory(dir, fleet, roots);

/**
 * A play on every host: a change (with its undo), a step that waits for the test's gate file (at most 60 s), and a
 * second change. Markers are named `TAG-1` and `TAG-2` under each host's root.
 */
function gatedPlay(tag: string, gate: string): string {
  const play = join(dir, `${tag}.yml`);
  const change = (n: number) =>
    `    - name: ${tag} change ${n}\n      command:\n        cmd: touch {{ rollgate_root }}/etc/${tag}-${n}\n        undo: rm -f {{ rollgate_root }}/etc/${tag}-${n}\n`;
  writeFileSync(
    play,
    `- hosts: all\n  serial: 1\n  become: true\n  tasks:\n${change(1)}    - name: ${tag} gate\n      shell: i=0; while [ ! -e ${gate} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n      changed_when: false\n${change(2)}`,
  );
  return play;
}

const marker = (host: number, tag: string, n: number) => existsSync(join(roots[host]!, 'etc', `${tag}-${n}`));

/** A look into the shared journal from this test process; undefined while the server does not answer. */
function peek<T>(url: string, read: (j: Journal) => T): T | undefined {
  let j: Journal | undefined;
  try {
    j = Journal.open(url);
    return read(j);
  } catch {
    return undefined;
  } finally {
    j?.close();
  }
}

/** The run id once the step `task` of h01 is journaled as pending (running now); a controller exiting first fails. */
async function pendingOn(a: Running, url: string, task: string): Promise<string> {
  let over = false;
  const early = a.done.then((r) => {
    if (!over) throw new Error(`the controller exited (${r.code ?? r.signal}) first: ${r.stdout}${r.stderr}`);
  });
  const pending = () =>
    peek(url, (j) => j.store.get("SELECT run_id FROM steps WHERE task = ? AND status = 'pending'", task))?.run_id as
      string | undefined;
  try {
    return await Promise.race([until(pending, 60_000), early.then(() => undefined as never)]);
  } finally {
    over = true;
  }
}

/** Every step of the run, as `host task status` lines, and whether each change has its undo record. */
function stepsOf(url: string, id: string): string[] {
  return (
    peek(url, (j) => j.listSteps(id).map((s) => `${s.host} ${s.task} ${s.status}${s.hasUndo ? ' +undo' : ''}`)) ?? []
  );
}

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'rg-pgoutage-'));
  chmodSync(dir, 0o755);
  server = await startPostgres();
  fleet = await startSshdFleet({ count: 2, dir: join(dir, 'fleet') });
}, 240_000);
/** New host roots for each case: a run that failed leaves its state on them. */
beforeEach(() => {
  roots.splice(0).forEach(removeRoot);
  for (let i = 0; i < 2; i++) {
    const r = tempRoot(`pgo${i}`);
    buildRoot(r, 'debian');
    useRealGrubTools(r, { grubenv: 'created' });
    roots.push(r);
  }
}, 60_000);
afterAll(async () => {
  await fleet?.stop();
  server?.stop();
  roots.forEach(removeRoot);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a journal in PostgreSQL whose server goes away mid-run', () => {
  it('survives the server restarted (pg_ctl stop -m immediate, start) in the middle of a rollout: the run ends succeeded, each step journaled once', async () => {
    const url = await server.freshDatabase();
    const gate = join(dir, 'restart-gate');
    const play = gatedPlay('restart', gate);
    const a = startCli(['rollout', play, '-i', inventory(), '--journal', url, '--yes'], controller('a'));
    const id = await pendingOn(a, url, 'restart gate');
    await server.halt();
    await sleep(3_000);
    await server.start();
    writeFileSync(gate, '');
    const out = await a.done;
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(peek(url, (j) => j.getRun(id)?.status)).toBe('succeeded');
    for (const host of [0, 1]) for (const n of [1, 2]) expect(marker(host, 'restart', n)).toBe(true);
    const steps = stepsOf(url, id);
    for (const h of ['h01', 'h02']) {
      expect(steps, steps.join('\n')).toContain(`${h} restart change 1 applied +undo`);
      expect(steps.filter((s) => s.startsWith(`${h} restart gate `))).toHaveLength(1);
      expect(steps).toContain(`${h} restart change 2 applied +undo`);
    }
    // Nothing journaled twice, nothing left pending.
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps.filter((s) => s.includes(' pending'))).toEqual([]);
    expect(peek(url, (j) => j.store.all('SELECT * FROM fleet_host_locks'))).toEqual([]);
  }, 180_000);

  it("survives every connection of the controller's being terminated (pg_terminate_backend) in the middle of a run", async () => {
    const url = await server.freshDatabase();
    const gate = join(dir, 'terminate-gate');
    const play = gatedPlay('terminate', gate);
    const a = startCli(['run', play, '-i', inventory(), '--journal', url], controller('a'));
    const id = await pendingOn(a, url, 'terminate gate');
    expect(await server.terminateConnections(url)).toBeGreaterThan(0);
    writeFileSync(gate, '');
    const out = await a.done;
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(peek(url, (j) => j.getRun(id)?.status)).toBe('succeeded');
    for (const host of [0, 1]) for (const n of [1, 2]) expect(marker(host, 'terminate', n)).toBe(true);
    const steps = stepsOf(url, id);
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps.filter((s) => s.includes(' pending'))).toEqual([]);
  }, 180_000);

  it('stops before its next change when the server stays down (exit 8, the journal named without its password), and another controller resumes the rollout once it is back', async () => {
    const base = await server.freshDatabase();
    // The test server trusts every local connection: a password in the URL is accepted and must never be shown.
    const url = base.replace('rollgate@', 'rollgate:s3cret-pw@');
    const gate = join(dir, 'down-gate');
    const play = gatedPlay('down', gate);
    const inv = inventory();
    const a = startCli(['rollout', play, '-i', inv, '--journal', url, '--yes'], controller('a'));
    const id = await pendingOn(a, url, 'down gate');
    await server.halt();
    try {
      const began = Date.now();
      writeFileSync(gate, '');
      const out = await a.done;
      expect(out.code, out.stdout + out.stderr).toBe(8);
      expect(Date.now() - began).toBeLessThan(90_000);
      const where = base.replace(/^postgres:\/\//, 'postgres://');
      expect(out.stderr).toContain(`the journal ${where} `);
      expect(out.stderr).toContain(`rollgate resume ${id}`);
      expect(out.stdout + out.stderr).not.toContain('s3cret-pw');
      expect(out.stderr).not.toMatch(/^\s+at /m); // no stack trace
      expect(out.stderr).not.toMatch(/internal error/i);
      // Nothing was done after the outage began: h01's second change and all of h02 never ran.
      expect(marker(0, 'down', 1)).toBe(true);
      expect(marker(0, 'down', 2)).toBe(false);
      expect(marker(1, 'down', 1)).toBe(false);
    } finally {
      await server.start();
    }
    // The journal holds what was done: h01's first change with its undo record, its gate step not finished.
    const before = stepsOf(url, id);
    expect(before).toContain('h01 down change 1 applied +undo');
    expect(before.some((s) => s.startsWith('h01 down change 2'))).toBe(false);
    expect(before.some((s) => s.startsWith('h02 '))).toBe(false);

    // Controller B (another HOME) resumes from the journal: h01, stopped mid-change, is rolled back.
    const b = { ...controller('b'), ROLLGATE_JOURNAL: url };
    const resumed = await rollgate(['resume', id, '--yes'], b);
    expect(resumed.stderr).not.toMatch(/internal error/i);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(3);
    expect(peek(url, (j) => j.getRun(id)?.status)).toBe('rolled_back');
    expect(marker(0, 'down', 1)).toBe(false);
    expect(marker(0, 'down', 2)).toBe(false);
    expect(marker(1, 'down', 1)).toBe(false);
    expect(peek(url, (j) => j.store.all('SELECT * FROM fleet_host_locks'))).toEqual([]);
    expect(peek(url, (j) => j.store.all('SELECT * FROM run_leases'))).toEqual([]);
  }, 240_000);

  it('stops a playbook run the same way (exit 8, its next task not started), and another controller undoes its change once the server is back', async () => {
    const url = await server.freshDatabase();
    const gate = join(dir, 'run-down-gate');
    const play = gatedPlay('rundown', gate);
    const a = startCli(['run', play, '-i', inventory(), '--journal', url, '--limit', 'h01'], controller('a'));
    const id = await pendingOn(a, url, 'rundown gate');
    await server.halt();
    try {
      writeFileSync(gate, '');
      const out = await a.done;
      expect(out.code, out.stdout + out.stderr).toBe(8);
      expect(out.stderr).toContain(`\`rollgate undo ${id}\` takes back what run ${id} changed`);
      expect(out.stderr).not.toMatch(/^\s+at /m);
      expect(marker(0, 'rundown', 1)).toBe(true);
      expect(marker(0, 'rundown', 2)).toBe(false);
    } finally {
      await server.start();
    }
    const undone = await rollgate(['undo', id, '--journal', url, '--become'], controller('b'));
    expect(undone.code, undone.stdout + undone.stderr).toBe(0);
    expect(marker(0, 'rundown', 1)).toBe(false);
  }, 180_000);
});
