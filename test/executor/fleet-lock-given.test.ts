// The executor holds hosts in the fleet lock the composition root gives it, never in one it takes from the journal.
import { afterEach, describe, expect, it } from 'vitest';
import { addressSubjects } from '../../src/executor/machine-identity.js';
import { HostsLockedError } from '../../src/executor/run-playbook.js';
import type { SshTarget } from '../../src/connection/target.js';
import type { FleetLock } from '../../src/journal/fleet-lock.js';
import { Journal } from '../../src/journal/journal.js';
import { runYaml, twoHosts } from './support.js';

const opened: Journal[] = [];
afterEach(() => opened.splice(0).forEach((j) => j.close()));

/** Another database's lock, standing for the one several controllers share. */
function elsewhere(shared: boolean): FleetLock {
  const j = Journal.open(':memory:');
  opened.push(j);
  const lock = j.fleetLock();
  return shared ? Object.assign(Object.create(lock) as FleetLock, { shared: true }) : lock;
}

/** h1 as runYaml's targets address it (support.ts). */
const h1 = { name: 'h1', address: '127.0.0.1', port: 10_022 } as SshTarget;
const play = '- hosts: all\n  tasks:\n    - debug: { msg: hi }\n';

describe('the fleet lock given to runPlaybook', () => {
  it('is where the run locks its hosts: a host held there is refused, though the journal holds nothing', async () => {
    const lock = elsewhere(false);
    expect((await lock.acquireHostLocks('other-run', addressSubjects([h1]))).ok).toBe(true);
    await expect(runYaml({ inventory: twoHosts, playbook: play, lock: () => lock })).rejects.toThrow(HostsLockedError);
  });

  it('names the other controller when the lock is shared and the holding run is not in this journal', async () => {
    const lock = elsewhere(true);
    expect((await lock.acquireHostLocks('other-run', addressSubjects([h1]))).ok).toBe(true);
    await expect(runYaml({ inventory: twoHosts, playbook: play, lock: () => lock })).rejects.toThrow(
      /run other-run is not in this journal: it belongs to the controller .*, which shares the fleet lock/,
    );
  });

  it("is the only one asked: a host the journal's own lock holds does not stop a run given another lock", async () => {
    const lock = elsewhere(false);
    const r = await runYaml({
      inventory: twoHosts,
      playbook: play,
      lock: (journal) => {
        void journal.fleetLock().acquireHostLocks('other-run', addressSubjects([h1]));
        return lock;
      },
    });
    expect(r.result.failed).toBe(false);
    expect(r.result.recap.h1?.ok).toBe(1);
    expect((await r.journal.fleetLock().listHostLocks()).map((l) => l.runId)).toEqual(['other-run']);
  });
});
