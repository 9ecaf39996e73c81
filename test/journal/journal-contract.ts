/**
 * What every journal store must do (SQLite, the embedded default; PostgreSQL, shared by several controllers), as
 * one suite run against each: `fresh` gives the --journal of an empty journal (a file path or a postgresql:// URL),
 * opened as many times as a case needs, as separate controllers would.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { Journal } from '../../src/journal/journal.js';
import { LATEST_VERSION } from '../../src/journal/migrations/index.js';
import { REDACTED } from '../../src/journal/redact.js';
import { describeConflicts, runLife, wayOut } from '../../src/journal/run-life.js';
import {
  LEASE_TTL_MS,
  leaseLife,
  readLease,
  releaseLease,
  renewLease,
  takeLease,
} from '../../src/journal/run-lease.js';
import type { UndoRecord } from '../../src/modules/module.js';

const undo: UndoRecord = {
  files: [
    { path: '/etc/default/grub', contentBase64: Buffer.from('A=1\n').toString('base64'), mode: 0o644, uid: 0, gid: 0 },
  ],
  rebuild: ['update-grub'],
};

/** A pid that existed and has exited. */
function deadPid(): number {
  return Number(spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim());
}

const write = <T>(fn: () => T) => fn();

export function journalContract(backend: string, fresh: () => Promise<string>): void {
  const opened: Journal[] = [];
  const open = (spec: string) => {
    const j = Journal.open(spec);
    opened.push(j);
    return j;
  };
  const journal = async () => open(await fresh());
  afterEach(async () => {
    for (const j of opened.splice(0)) {
      await j.fleetLock().close();
      j.close();
    }
  });
  const plant = (j: Journal, runId: string, owner: string, expiresAt: number) =>
    j.store.run(
      'INSERT INTO run_leases (run_id, owner, token, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      runId,
      owner,
      'theirs',
      expiresAt - LEASE_TTL_MS,
      expiresAt,
    );
  const dump = (j: Journal) =>
    ['runs', 'run_hosts', 'steps', 'events', 'snapshots']
      .map((t) => JSON.stringify(j.store.all(`SELECT * FROM ${t}`)))
      .join('');

  describe(`journal contract (${backend})`, () => {
    it('migrates a new journal to the latest schema once, and a second opener applies nothing', async () => {
      const spec = await fresh();
      const j = open(spec);
      expect(j.store.schemaVersion()).toBe(LATEST_VERSION);
      const run = j.createRun({ kind: 'run' });
      const again = open(spec);
      expect(again.store.schemaVersion()).toBe(LATEST_VERSION);
      expect(again.getRun(run.id)?.id).toBe(run.id);
    });

    it('journals steps before and after they run and keeps the undo record written before apply', async () => {
      const j = await journal();
      const run = j.createRun({ kind: 'run', playbook: 'p.yml', inventory: ['inv.yml'], options: { check: false } });
      expect(run.status).toBe('running');
      j.addHost(run.id, 'h1', { ansible_host: '10.0.0.1' });
      j.recordHostIdentity(run.id, 'h1', { address: '10.0.0.1', port: 22, hostKey: 'SHA256:abc' });
      j.recordHostIdentity(run.id, 'h1', { address: '10.0.0.9', port: 2222, hostKey: 'SHA256:other' });
      expect(j.hostIdentity(run.id, 'h1')).toEqual({ address: '10.0.0.1', port: 22, hostKey: 'SHA256:abc' });
      const step = j.beginStep(run.id, 'h1', {
        task: 'enable iommu',
        module: 'kernel_args',
        args: { present: ['iommu=pt'] },
      });
      expect(typeof step).toBe('number');
      expect(j.getStep(step)).toMatchObject({ status: 'pending', hasUndo: false });
      j.recordUndo(step, undo);
      expect(j.getStep(step)).toMatchObject({ status: 'pending', hasUndo: true });
      j.finishStep(step, { status: 'applied', message: 'changed', data: { changed: true } });
      expect(j.getStep(step)).toMatchObject({ status: 'applied', message: 'changed', data: { changed: true } });
      j.setHostStatus(run.id, 'h1', 'done', 'all good');
      expect(j.listHosts(run.id)).toMatchObject([{ host: 'h1', status: 'done', detail: 'all good' }]);
      j.finishRun(run.id, 'succeeded');
      expect(j.getRun(run.id)).toMatchObject({ status: 'succeeded', playbook: 'p.yml', inventory: ['inv.yml'] });
      expect(j.getRun(run.id)?.finishedAt).toBeGreaterThan(1_600_000_000_000);
      expect(j.listRuns().map((r) => r.id)).toEqual([run.id]);
    });

    it("lists an interrupted pending step with an undo record as undoable, newest first, from another controller's journal", async () => {
      const spec = await fresh();
      const j = open(spec);
      const run = j.createRun({ kind: 'run' });
      const a = j.beginStep(run.id, 'h1', { task: 'a', module: 'kernel_args' });
      j.recordUndo(a, undo);
      j.finishStep(a, { status: 'applied' });
      const noUndo = j.beginStep(run.id, 'h1', { task: 'b', module: 'kernel_args' });
      j.finishStep(noUndo, { status: 'ok' });
      const c = j.beginStep(run.id, 'h1', { task: 'c', module: 'vfio_bind' });
      j.recordUndo(c, { ...undo, rebuild: ['update-initramfs -u'] });
      // The controller dies here: c stays pending. Another one opens the same journal.
      j.close();
      const k = open(spec);
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
      expect(k.listRuns().map((r) => r.id)).toEqual(expect.arrayContaining([run.id, undoRun.id]));
    });

    it('never stores secrets: by name, and the run’s secret values in every row but undo records', async () => {
      const j = await journal();
      j.secrets.add('s3cr3t-value');
      const run = j.createRun({ kind: 'run', options: { vault_password: 'hunter2', note: 'see s3cr3t-value' } });
      j.addHost(run.id, 'h1', {
        ansible_become_password: 'hunter2',
        ansible_ssh_pass: 'hunter2',
        api_token: 'hunter2',
        rollgate_power: { driver: 'ipmi', host: '10.0.0.5', user: 'admin', password: 'hunter2' },
        harmless: 'visible',
        motd: 's3cr3t-value',
      });
      j.setHostStatus(run.id, 'h1', 'failed', 'login with s3cr3t-value refused');
      const step = j.beginStep(run.id, 'h1', {
        task: 'loop (item=s3cr3t-value)',
        module: 'command',
        args: { client_secret: 'hunter2' },
      });
      const backup = {
        path: '/etc/app.conf',
        contentBase64: Buffer.from('pw=s3cr3t-value\n').toString('base64'),
        mode: 0o600,
        uid: 0,
        gid: 0,
      };
      j.recordUndo(step, { files: [backup], rebuild: [] });
      j.finishStep(step, {
        status: 'failed',
        message: 'stderr: s3cr3t-value',
        data: { nested: [{ token: 'hunter2' }] },
      });
      j.addEvent(run.id, { type: 'host.failed', at: 1, host: 'h1', kind: 'auth', message: 's3cr3t-value' });
      j.addSnapshot(run.id, 'h1', 'before', { secret_key: 'hunter2', cmdline: 'quiet token=s3cr3t-value' });
      expect(dump(j)).not.toContain('hunter2');
      expect(dump(j)).not.toContain('s3cr3t-value');
      expect(j.getRun(run.id)!.options).toEqual({ vault_password: REDACTED, note: `see ${REDACTED}` });
      expect(j.listHosts(run.id)[0]!.vars).toMatchObject({ harmless: 'visible', rollgate_power: { user: REDACTED } });
      expect(j.latestSnapshot(run.id, 'h1', 'before')!.data).toMatchObject({ secret_key: REDACTED });
      expect(j.listEvents(run.id, 'h1')).toHaveLength(1);
      expect(j.undoableSteps(run.id, 'h1')[0]!.undo.files[0]).toEqual(backup);
    });

    it('gives the first and the latest snapshot of a host in a run', async () => {
      const j = await journal();
      const run = j.createRun({ kind: 'run' });
      const other = j.createRun({ kind: 'run' });
      expect(j.firstSnapshot(run.id, 'h1')).toBeUndefined();
      j.addSnapshot(other.id, 'h1', 'snapshot', { n: 0 });
      j.addSnapshot(run.id, 'h2', 'snapshot', { n: 1 });
      const first = j.addSnapshot(run.id, 'h1', 'snapshot', { n: 2 });
      j.addSnapshot(run.id, 'h1', 'verify', { n: 3 });
      expect(j.firstSnapshot(run.id, 'h1')).toMatchObject({ id: first, phase: 'snapshot', data: { n: 2 } });
      expect(j.latestSnapshot(run.id, 'h1')).toMatchObject({ phase: 'verify', data: { n: 3 } });
      expect(j.latestSnapshot(run.id, 'h1', 'snapshot')).toMatchObject({ data: { n: 2 } });
    });

    it('rolls a transaction back whole when it throws', async () => {
      const j = await journal();
      const run = j.createRun({ kind: 'run' });
      expect(() =>
        j.store.transaction(() => {
          j.finishRun(run.id, 'failed');
          throw new Error('midway');
        }),
      ).toThrow('midway');
      expect(j.getRun(run.id)?.status).toBe('running');
    });

    it('refuses a lease whose controller lives, takes over a dead one, and renews only its own', async () => {
      const j = await journal();
      const now = Date.now();
      const live = j.createRun({ kind: 'rollout' }).id;
      plant(j, live, `${hostname()}:${process.ppid}`, now + 30_000);
      expect(takeLease(j.store, live, write).ok).toBe(false);
      const far = j.createRun({ kind: 'rollout' }).id;
      plant(j, far, 'other-machine:4242', now + 30_000);
      expect(takeLease(j.store, far, write).ok).toBe(false);
      const cases: Array<[string, number, RegExp]> = [
        [`${hostname()}:${deadPid()}`, now + 30_000, /has exited$/],
        [`${hostname()}:${process.ppid}`, now - 1, /stopped renewing its lease/],
        ['other-machine:4242', now - 1, /on another machine expired at/],
      ];
      for (const [owner, expires, why] of cases) {
        const id = j.createRun({ kind: 'rollout' }).id;
        plant(j, id, owner, expires);
        expect(leaseLife(readLease(j.store, id)!).why).toMatch(why);
        const got = takeLease(j.store, id, write);
        if (!got.ok) throw new Error(`expected to take over ${owner}`);
        expect(got.tookOver?.owner).toBe(owner);
        expect(readLease(j.store, id)).toMatchObject({ owner: `${hostname()}:${process.pid}`, token: got.lease.token });
        expect(renewLease(j.store, got.lease, Date.now() + 1000)).toBe(true);
        j.store.run('UPDATE run_leases SET owner = ?, token = ? WHERE run_id = ?', 'other-machine:1', 'successor', id);
        expect(renewLease(j.store, got.lease)).toBe(false);
        releaseLease(j.store, got.lease, write);
        expect(readLease(j.store, id)?.token).toBe('successor');
      }
    });

    it("sees a lease another controller's journal took, and lets it go through Journal.leases()", async () => {
      const spec = await fresh();
      const a = open(spec);
      const b = open(spec);
      const id = a.createRun({ kind: 'run' }).id;
      const got = a.leases().take(id);
      if (!got.ok) throw new Error('expected the lease');
      expect(b.leases().read(id)).toMatchObject({ token: got.lease.token });
      expect(
        a
          .leases()
          .ownedHere()
          .map((l) => l.runId),
      ).toEqual([id]);
      expect(a.leases().renew(got.lease)).toBe(true);
      const pending = a.beginStep(id, 'hv1', { task: 't', module: 'command', args: {} });
      a.notePendingSteps(id, 'interrupted (SIGTERM)');
      expect(b.getStep(pending)).toMatchObject({ status: 'pending', message: 'interrupted (SIGTERM)' });
      a.leases().release(got.lease);
      expect(b.leases().read(id)).toBeUndefined();
      expect(a.isOpen).toBe(true);
      a.close();
      expect(a.isOpen).toBe(false);
    });

    it("names the way out of a dead controller's lock held in the journal's own fleet lock", async () => {
      const j = await journal();
      const lock = j.fleetLock();
      const dead = j.createRun({ kind: 'rollout' }).id;
      plant(j, dead, `${hostname()}:${deadPid()}`, Date.now() + 30_000);
      expect(runLife(j, j.getRun(dead)!).alive).toBe(false);
      expect(wayOut(j, dead, 'hv1')).toContain(`\`rollgate resume ${dead}\` finishes it or rolls it back`);
      expect((await lock.acquireHostLocks(dead, [{ host: 'hv1', machine: 'addr:10.0.0.1:22' }])).ok).toBe(true);
      const refused = await lock.acquireHostLocks('run-new', [{ host: 'hv1-mgmt', machine: 'addr:10.0.0.1:22' }]);
      if (refused.ok) throw new Error('expected a refusal');
      expect(describeConflicts(j, refused.conflicts)).toMatch(
        new RegExp(`^hv1-mgmt \\(10\\.0\\.0\\.1:22\\) is locked by run ${dead} as hv1: run ${dead} stopped`),
      );
      await lock.breakRun(dead);
      expect(await lock.listHostLocks()).toEqual([]);
    });
  });
}
