// The one place a command's run begins and ends in the journal (src/executor/run-record.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { beginNewRun, beginRun, rolloutRecord } from '../../src/executor/run-record.js';

const opened: Journal[] = [];
function journal(): Journal {
  const j = Journal.open(':memory:');
  opened.push(j);
  return j;
}
afterEach(() => opened.splice(0).forEach((j) => j.close()));

describe('beginRun', () => {
  it('creates the run with its record and holds its lease until it ends with a status', () => {
    const j = journal();
    const run = beginNewRun(j, { kind: 'run', playbook: '/p.yml', inventory: ['inv'], options: { check: false } });
    expect(j.getRun(run.id)).toMatchObject({ kind: 'run', status: 'running', playbook: '/p.yml', inventory: ['inv'] });
    expect(j.leases().read(run.id)).toBeDefined();
    run.end('succeeded');
    expect(j.getRun(run.id)?.status).toBe('succeeded');
    expect(j.leases().read(run.id)).toBeUndefined();
  });

  it('keeps the lease after finish until release, and a second release is harmless', () => {
    const j = journal();
    const parent = j.createRun({ kind: 'run' });
    const run = beginNewRun(j, { kind: 'undo', parentRunId: parent.id, options: {} });
    run.finish('failed');
    expect(j.leases().read(run.id)).toBeDefined();
    run.release();
    run.release();
    expect(j.leases().read(run.id)).toBeUndefined();
    expect(j.getRun(run.id)?.status).toBe('failed');
  });

  it('refuses a run another live controller holds, and takes it over once that one is gone (resume)', () => {
    const j = journal();
    const run = j.createRun({ kind: 'rollout' });
    // A controller on another machine whose lease has not expired: alive as far as this one can tell.
    j.db
      .prepare('INSERT INTO run_leases (run_id, owner, token, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(run.id, 'elsewhere.example:4242', 'theirs', Date.now(), Date.now() + 60_000);
    const refused = beginRun(j, run.id);
    expect(refused).toMatchObject({ ok: false, owner: 'elsewhere.example:4242' });
    if (!refused.ok) expect(refused.message).toContain(`run ${run.id} is still in progress`);
    j.db.prepare('UPDATE run_leases SET expires_at = ? WHERE run_id = ?').run(Date.now() - 1, run.id);
    const resumed = beginRun(j, run.id);
    expect(resumed.ok).toBe(true);
    if (resumed.ok) {
      expect(resumed.run.id).toBe(run.id);
      resumed.run.release();
    }
    expect(j.getRun(run.id)?.status).toBe('running');
  });
});

describe('rolloutRecord', () => {
  it('keeps what resume needs, in the order the journal has always kept it', () => {
    const record = rolloutRecord({
      playbook: '/p.yml',
      inventory: ['inv.yml'],
      limit: 'web',
      tags: ['a'],
      skipTags: [],
      extraVars: { x: 1 },
      bootTimeoutSec: 600,
      connection: { sshConfig: '/c' },
      fleetLock: 'postgres://u@db/x',
    });
    expect(record).toEqual({
      kind: 'rollout',
      playbook: '/p.yml',
      inventory: ['inv.yml'],
      limit: 'web',
      options: {
        tags: ['a'],
        skipTags: [],
        extraVars: { x: 1 },
        bootTimeout: 600,
        connection: { sshConfig: '/c' },
        fleetLock: 'postgres://u@db/x',
      },
    });
    expect(Object.keys(record.options!)).toEqual([
      'tags',
      'skipTags',
      'extraVars',
      'bootTimeout',
      'connection',
      'fleetLock',
    ]);
  });
});
