import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, newRunId } from '../../src/journal/journal.js';
import { migrate, LATEST_VERSION, type Migration } from '../../src/journal/migrations/index.js';
import { resolveJournalPath } from '../../src/journal/journal-path.js';
import { redactSecrets, REDACTED } from '../../src/journal/redact.js';
import type { UndoRecord } from '../../src/modules/module.js';

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-journal-'));
  dirs.push(dir);
  return join(dir, 'sub', 'journal.db');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const undo: UndoRecord = {
  files: [
    { path: '/etc/default/grub', contentBase64: Buffer.from('A=1\n').toString('base64'), mode: 0o644, uid: 0, gid: 0 },
  ],
  rebuild: ['update-grub'],
};

describe('journal', () => {
  it('creates the file with WAL mode and the latest schema version', () => {
    const path = tempDb();
    const j = Journal.open(path);
    expect(j.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(j.db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    j.close();
    // Reopening applies nothing and keeps the data.
    const again = Journal.open(path);
    expect(again.db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    again.close();
  });

  it('applies only the migrations above the stored version and refuses a newer schema', () => {
    const db = new Database(':memory:');
    const list: Migration[] = [
      { version: 1, name: 'a', sql: 'CREATE TABLE a (x INTEGER);' },
      { version: 2, name: 'b', sql: 'CREATE TABLE b (y INTEGER);' },
    ];
    expect(migrate(db, list.slice(0, 1))).toEqual([1]);
    expect(migrate(db, list)).toEqual([2]);
    expect(migrate(db, list)).toEqual([]);
    expect(() => migrate(db, list.slice(0, 1))).toThrow(/newer than this rollgate understands/);
    // A failing migration leaves the version where it was.
    const bad: Migration[] = [...list, { version: 3, name: 'bad', sql: 'CREATE TABLE c (z INTEGER); NOT SQL;' }];
    expect(() => migrate(db, bad)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'c'").get()).toBeUndefined();
  });

  it('journals steps before and after they run and keeps the undo record written before apply', () => {
    const j = Journal.open(tempDb());
    const run = j.createRun({ kind: 'run', playbook: 'p.yml', inventory: ['inv.yml'], options: { check: false } });
    expect(run.status).toBe('running');
    j.addHost(run.id, 'h1', { ansible_host: '10.0.0.1' });
    const step = j.beginStep(run.id, 'h1', {
      task: 'enable iommu',
      module: 'kernel_args',
      args: { present: ['iommu=pt'] },
    });
    expect(j.getStep(step)).toMatchObject({ status: 'pending', hasUndo: false });
    j.recordUndo(step, undo);
    expect(j.getStep(step)).toMatchObject({ status: 'pending', hasUndo: true });
    j.finishStep(step, { status: 'applied', message: 'changed', data: { changed: true } });
    expect(j.getStep(step)).toMatchObject({ status: 'applied', message: 'changed', data: { changed: true } });
    j.finishRun(run.id, 'succeeded');
    expect(j.getRun(run.id)).toMatchObject({ status: 'succeeded', playbook: 'p.yml', inventory: ['inv.yml'] });
    expect(j.listRuns().map((r) => r.id)).toEqual([run.id]);
    j.close();
  });

  it('lists an interrupted pending step with an undo record as undoable, newest first, until marked undone', () => {
    const path = tempDb();
    const j = Journal.open(path);
    const run = j.createRun({ kind: 'run' });
    const a = j.beginStep(run.id, 'h1', { task: 'a', module: 'kernel_args' });
    j.recordUndo(a, undo);
    j.finishStep(a, { status: 'applied' });
    const noUndo = j.beginStep(run.id, 'h1', { task: 'b', module: 'kernel_args' });
    j.finishStep(noUndo, { status: 'ok' });
    const c = j.beginStep(run.id, 'h1', { task: 'c', module: 'vfio_bind' });
    j.recordUndo(c, { ...undo, rebuild: ['update-initramfs -u'] });
    // The controller dies here: c stays pending. A new process opens the same file.
    j.close();
    const k = Journal.open(path);
    const steps = k.undoableSteps(run.id, 'h1');
    expect(steps.map((s) => [s.id, s.status])).toEqual([
      [c, 'pending'],
      [a, 'applied'],
    ]);
    expect(steps[0]!.undo.rebuild).toEqual(['update-initramfs -u']);
    expect(k.undoableSteps(run.id, 'h2')).toEqual([]);
    const undoRun = k.createRun({ kind: 'undo', parentRunId: run.id });
    k.markUndone(c, undoRun.id);
    expect(k.undoableSteps(run.id, 'h1').map((s) => s.id)).toEqual([a]);
    expect(k.getStep(c)).toMatchObject({ undoneBy: undoRun.id });
    k.close();
  });

  it('never stores secrets in host vars, step args, events or snapshots', () => {
    const j = Journal.open(tempDb());
    const run = j.createRun({ kind: 'run', options: { vault_password: 'hunter2' } });
    j.addHost(run.id, 'h1', {
      ansible_become_password: 'hunter2',
      ansible_ssh_pass: 'hunter2',
      api_token: 'hunter2',
      rollgate_power: { driver: 'ipmi', host: '10.0.0.5', user: 'admin', password: 'hunter2' },
      harmless: 'visible',
    });
    const step = j.beginStep(run.id, 'h1', { task: 't', module: 'command', args: { client_secret: 'hunter2' } });
    j.finishStep(step, { status: 'ok', data: { nested: [{ token: 'hunter2' }] } });
    j.addEvent(run.id, { type: 'host.failed', at: 1, host: 'h1', kind: 'auth', message: 'x' });
    j.addSnapshot(run.id, 'h1', 'before', { secret_key: 'hunter2', cmdline: 'quiet' });
    const dump =
      JSON.stringify(j.db.prepare('SELECT * FROM runs').all()) +
      JSON.stringify(j.db.prepare('SELECT * FROM run_hosts').all()) +
      JSON.stringify(j.db.prepare('SELECT * FROM steps').all()) +
      JSON.stringify(j.db.prepare('SELECT * FROM events').all()) +
      JSON.stringify(j.db.prepare('SELECT * FROM snapshots').all());
    expect(dump).not.toContain('hunter2');
    expect(j.listHosts(run.id)[0]!.vars).toMatchObject({
      harmless: 'visible',
      rollgate_power: { driver: 'ipmi', host: '10.0.0.5', user: REDACTED },
    });
    expect(j.latestSnapshot(run.id, 'h1', 'before')!.data).toEqual({ secret_key: REDACTED, cmdline: 'quiet' });
    expect(j.listEvents(run.id, 'h1')).toHaveLength(1);
    j.close();
  });

  it("scrubs the run's secret values from every row, keeps undo records byte-exact", () => {
    const j = Journal.open(tempDb());
    j.secrets.add('s3cr3t-value');
    const run = j.createRun({ kind: 'run', options: { extraVars: { api_pw: 'x', note: 'see s3cr3t-value' } } });
    j.addHost(run.id, 'h1', { motd: 's3cr3t-value' });
    j.setHostStatus(run.id, 'h1', 'failed', 'login with s3cr3t-value refused');
    const step = j.beginStep(run.id, 'h1', {
      task: 'loop (item=s3cr3t-value)',
      module: 'command',
      args: { cmd: "echo 's3cr3t-value'" },
    });
    const backup = {
      path: '/etc/app.conf',
      contentBase64: Buffer.from('password=s3cr3t-value\n').toString('base64'),
      mode: 0o600,
      uid: 0,
      gid: 0,
    };
    j.recordUndo(step, { files: [backup], rebuild: [] });
    j.finishStep(step, { status: 'failed', message: 'stderr: s3cr3t-value', data: { stdout_lines: ['s3cr3t-value'] } });
    j.addEvent(run.id, { type: 'host.failed', at: 1, host: 'h1', kind: 'auth', message: '{"pw":"s3cr3t-value"}' });
    j.addSnapshot(run.id, 'h1', 'before', { cmdline: 'quiet token=s3cr3t-value' });
    const rows = ['runs', 'run_hosts', 'steps', 'events', 'snapshots']
      .map((t) => JSON.stringify(j.db.prepare(`SELECT * FROM ${t}`).all()))
      .join('');
    expect(rows).not.toContain('s3cr3t-value');
    expect(j.getRun(run.id)!.options).toEqual({ extraVars: { api_pw: REDACTED, note: `see ${REDACTED}` } });
    expect(j.listSteps(run.id)[0]).toMatchObject({
      task: `loop (item=${REDACTED})`,
      message: `stderr: ${REDACTED}`,
      args: { cmd: `echo '${REDACTED}'` },
    });
    expect(j.undoableSteps(run.id, 'h1')[0]!.undo.files[0]).toEqual(backup);
    j.close();
  });
});

describe('journal snapshots', () => {
  it('gives the first and the latest snapshot of a host in a run', () => {
    const j = Journal.open(tempDb());
    const run = j.createRun({ kind: 'run' });
    const other = j.createRun({ kind: 'run' });
    expect(j.firstSnapshot(run.id, 'h1')).toBeUndefined();
    j.addSnapshot(other.id, 'h1', 'snapshot', { n: 0 });
    j.addSnapshot(run.id, 'h2', 'snapshot', { n: 1 });
    j.addSnapshot(run.id, 'h1', 'snapshot', { n: 2 });
    j.addSnapshot(run.id, 'h1', 'verify', { n: 3 });
    expect(j.firstSnapshot(run.id, 'h1')).toMatchObject({ phase: 'snapshot', data: { n: 2 } });
    expect(j.latestSnapshot(run.id, 'h1')).toMatchObject({ phase: 'verify', data: { n: 3 } });
    j.close();
  });
});

describe('journal helpers', () => {
  it('resolves the journal path from the flag, then ROLLGATE_JOURNAL, then XDG_STATE_HOME, then ~/.local/state', () => {
    expect(resolveJournalPath('/x/j.db', { ROLLGATE_JOURNAL: '/y' })).toBe('/x/j.db');
    expect(resolveJournalPath(undefined, { ROLLGATE_JOURNAL: '/y/j.db' })).toBe('/y/j.db');
    expect(resolveJournalPath(undefined, { XDG_STATE_HOME: '/s' })).toBe('/s/rollgate/journal.db');
    expect(resolveJournalPath(undefined, { HOME: '/home/op' })).toBe('/home/op/.local/state/rollgate/journal.db');
  });

  it('makes sortable run ids and redacts without touching non-secret keys', () => {
    expect(newRunId(new Date(2025, 0, 14, 9, 30, 12))).toMatch(/^20250114-093012-[0-9a-f]{4}$/);
    expect(redactSecrets({ bypass_cache: true, passes: 3, a: { db_password: 'x' } })).toEqual({
      bypass_cache: true,
      passes: 3,
      a: { db_password: REDACTED },
    });
  });
});
