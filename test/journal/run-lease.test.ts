import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { Journal } from '../../src/journal/journal.js';
import { describeConflicts, runLife, wayOut } from '../../src/journal/run-life.js';
import {
  LEASE_TTL_MS,
  leaseLife,
  readLease,
  releaseLease,
  renewLease,
  takeLease,
} from '../../src/journal/run-lease.js';

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
  j.db
    .prepare('INSERT INTO run_leases (run_id, owner, token, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?)')
    .run(runId, owner, 'theirs', heartbeatAt, expiresAt);
}

const write = <T>(fn: () => T) => fn();

describe('run leases', () => {
  it('refuses a run whose controller lives: on this machine its pid and a fresh lease, elsewhere a lease not expired', () => {
    const j = journal();
    const now = Date.now();
    const a = j.createRun({ kind: 'rollout' }).id;
    plant(j, a, `${hostname()}:${process.ppid}`, now + 30_000);
    const live = takeLease(j.store, a, write);
    expect(live.ok).toBe(false);
    if (!live.ok)
      expect(live.life.why).toMatch(
        new RegExp(`^its controller ${hostname()}:${process.ppid} is alive \\(last heartbeat \\d+ s ago\\)$`),
      );
    const b = j.createRun({ kind: 'rollout' }).id;
    plant(j, b, 'other-machine:4242', now + 30_000);
    const far = takeLease(j.store, b, write);
    expect(far.ok).toBe(false);
    if (!far.ok)
      expect(far.life.why).toContain('its controller other-machine:4242 on another machine holds its lease until');
  });

  it("takes over a dead controller's run: pid exited, lease gone stale, or another machine's lease expired", () => {
    const j = journal();
    const now = Date.now();
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
      expect(got.ok).toBe(true);
      if (got.ok) {
        expect(got.tookOver?.owner).toBe(owner);
        expect(readLease(j.store, id)).toMatchObject({ owner: `${hostname()}:${process.pid}`, token: got.lease.token });
      }
    }
  });

  it('renews only its own lease, and lets go of it without touching a successor', () => {
    const j = journal();
    const id = j.createRun({ kind: 'rollout' }).id;
    const got = takeLease(j.store, id, write);
    if (!got.ok) throw new Error('expected the lease');
    expect(renewLease(j.store, got.lease, Date.now() + 1000)).toBe(true);
    expect(readLease(j.store, id)?.expiresAt).toBe(got.lease.expiresAt);
    // Another controller took it over (this one was frozen past its expiry): renewal says so.
    j.db.prepare('UPDATE run_leases SET owner = ?, token = ? WHERE run_id = ?').run('other-machine:1', 'successor', id);
    expect(renewLease(j.store, got.lease)).toBe(false);
    releaseLease(j.store, got.lease, write);
    expect(readLease(j.store, id)?.token).toBe('successor');
  });
});

describe("the journal's lease API", () => {
  it('takes, reads, renews and releases a lease through Journal.leases(), and notes pending steps of a forced stop', () => {
    const j = journal();
    const id = j.createRun({ kind: 'run' }).id;
    const got = j.leases().take(id);
    if (!got.ok) throw new Error('expected the lease');
    expect(j.leases().read(id)).toMatchObject({ owner: `${hostname()}:${process.pid}`, token: got.lease.token });
    expect(
      j
        .leases()
        .ownedHere()
        .map((l) => l.runId),
    ).toEqual([id]);
    expect(j.leases().renew(got.lease)).toBe(true);
    const pending = j.beginStep(id, 'hv1', { task: 't', module: 'command', args: {} });
    const done = j.beginStep(id, 'hv1', { task: 'u', module: 'command', args: {} });
    j.finishStep(done, { status: 'ok' });
    j.notePendingSteps(id, 'interrupted (SIGTERM)');
    expect(j.getStep(pending)).toMatchObject({ status: 'pending', message: 'interrupted (SIGTERM)' });
    expect(j.getStep(done)?.message).not.toBe('interrupted (SIGTERM)');
    j.leases().release(got.lease);
    expect(j.leases().read(id)).toBeUndefined();
    expect(j.isOpen).toBe(true);
    j.close();
    expect(j.isOpen).toBe(false);
  });
});

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
