import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOnFleet } from '../../src/executor/fleet.js';
import { EventBus, type RollgateEvent } from '../../src/events/events.js';
import { removeFleetDir, startSshdFleet, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { hostTarget, tempDir } from './support/ssh-fleet.js';

let fleet: SshdFleet;
let dir: string;

beforeAll(async () => {
  dir = tempDir('fifty');
  fleet = await startSshdFleet({ count: 50, dir });
});
afterAll(async () => {
  await fleet?.stop();
  removeFleetDir(dir);
});

describe('fifty hosts at once', () => {
  it('runs on all fifty over one connection each, with at most `forks` connections open', async () => {
    const events: RollgateEvent[] = [];
    const bus = new EventBus();
    bus.on((e) => events.push(e));
    const targets = fleet.hosts.map((h) => hostTarget(fleet, h, { connectTimeoutMs: 30_000 }));
    const outcomes = await runOnFleet(
      targets,
      async (conn) => {
        const a = await conn.exec('echo "$SSH_CONNECTION"');
        const b = await conn.exec('echo "$SSH_CONNECTION"');
        return [a.stdout, b.stdout];
      },
      { bus, forks: 50 },
    );
    expect(outcomes.filter((o) => o.status === 'ok')).toHaveLength(50);
    outcomes.forEach((o, i) => {
      expect(o.host).toBe(fleet.hosts[i]!.name);
      // Both commands came over the same TCP connection (same client port).
      expect(o.value![0]).toBe(o.value![1]);
      expect(o.value![0]).toMatch(new RegExp(` ${fleet.hosts[i]!.port}\\n$`));
    });
    let open = 0;
    let peak = 0;
    for (const e of events) {
      if (e.type === 'host.connecting') peak = Math.max(peak, ++open);
      if (e.type === 'host.finished') open--;
    }
    expect(peak).toBe(50);
    expect(events.filter((e) => e.type === 'command.finished')).toHaveLength(100);

    // With fewer forks, never more than that many hosts in flight.
    const limited: RollgateEvent[] = [];
    const bus2 = new EventBus();
    bus2.on((e) => limited.push(e));
    await runOnFleet(targets.slice(0, 12), (conn) => conn.exec('true'), { bus: bus2, forks: 5 });
    let inFlight = 0;
    let max = 0;
    for (const e of limited) {
      if (e.type === 'host.connecting') max = Math.max(max, ++inFlight);
      if (e.type === 'host.finished') inFlight--;
    }
    expect(max).toBe(5);
  });
});
