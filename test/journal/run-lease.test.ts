import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { Journal } from '../../src/journal/journal.js';
import { describeConflicts, runLife, wayOut } from '../../src/journal/run-life.js';
import { LEASE_TTL_MS } from '../../src/journal/run-lease.js';

const opened: Journal[] = [];
function journal(): Journal {
  const j = Journal.open(':memory:');
  opened.push(j);
  return j;
}
afterEach(() => opened.splice(0).forEach((j) => j.close()));

/** A pid that existed and has exited. */
function deadPid(): number {
  return Number(spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim());
}

function plant(
  j: Journal,
  runId: string,
  owner: string,
  expiresAt: number,
  heartbeatAt = expiresAt - LEASE_TTL_MS,
): void {
  j.store.run(
    'INSERT INTO run_leases (run_id, owner, token, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    runId,
    owner,
    'theirs',
    heartbeatAt,
    expiresAt,
  );
}

describe('stale locks name their way out', () => {
  it('says how to get past each kind of holder', async () => {
    const j = journal();
    const lock = j.fleetLock();
    const live = j.createRun({ kind: 'rollout' }).id;
    plant(j, live, `${hostname()}:${process.ppid}`, Date.now() + 30_000);
    expect(wayOut(j, live, 'hv1')).toMatch(
      new RegExp(
        `^run ${live} is in progress \\(its controller \\S+ is alive .*\\): wait for it, or stop it \\(Ctrl-C, or kill -TERM ${process.ppid} on ${hostname()}\\)$`,
      ),
    );

    const deadRollout = j.createRun({ kind: 'rollout' }).id;
    plant(j, deadRollout, `${hostname()}:${deadPid()}`, Date.now() + 30_000);
    expect(runLife(j, j.getRun(deadRollout)!).alive).toBe(false);
    expect(wayOut(j, deadRollout, 'hv1')).toMatch(
      new RegExp(
        `^run ${deadRollout} stopped \\(its controller \\S+ has exited\\): \`rollgate resume ${deadRollout}\` finishes it or rolls it back, \`rollgate undo ${deadRollout}\` takes its changes back, or \`rollgate unlock ${deadRollout} --host hv1\` releases the lock once you know hv1 is fine$`,
      ),
    );

    const interruptedRun = j.createRun({ kind: 'run' }).id;
    j.finishRun(interruptedRun, 'interrupted');
    expect(wayOut(j, interruptedRun, 'hv2')).toBe(
      `run ${interruptedRun} was interrupted: \`rollgate undo ${interruptedRun}\` takes its changes back, or \`rollgate unlock ${interruptedRun} --host hv2\` releases the lock once you know hv2 is fine`,
    );

    const person = j.createRun({ kind: 'rollout' }).id;
    j.finishRun(person, 'needs_person');
    expect(wayOut(j, person, 'hv3')).toContain(
      `left hv3 needing a person: look at it (\`rollgate show ${person} --host hv3\`), then \`rollgate unlock ${person} --host hv3\``,
    );
    const lost = j.createRun({ kind: 'rollout' }).id;
    j.addHost(lost, 'hv5', {}, 'applying');
    j.finishRun(lost, 'failed');
    expect(wayOut(j, lost, 'hv5')).toBe(
      `run ${lost} lost hv5 mid-change (phase applying): once it answers, \`rollgate resume ${lost}\` takes its changes back (or \`rollgate undo ${lost} --limit hv5\`), or \`rollgate unlock ${lost} --host hv5\` releases the lock once you know hv5 is fine`,
    );
    expect(wayOut(j, 'gone-run', 'hv4')).toBe(
      'run gone-run is not in this journal: `rollgate unlock gone-run --host hv4` releases its lock',
    );

    expect((await lock.acquireHostLocks(deadRollout, [{ host: 'hv1', machine: 'addr:10.0.0.1:22' }])).ok).toBe(true);
    const refused = await lock.acquireHostLocks('run-new', [{ host: 'hv1-mgmt', machine: 'addr:10.0.0.1:22' }]);
    if (refused.ok) throw new Error('expected a refusal');
    expect(describeConflicts(j, refused.conflicts)).toMatch(
      new RegExp(
        `^hv1-mgmt \\(10\\.0\\.0\\.1:22\\) is locked by run ${deadRollout} as hv1: run ${deadRollout} stopped`,
      ),
    );
  });
});
