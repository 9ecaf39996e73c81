import { describe, expect, it } from 'vitest';
import type { RollgateEvent } from '../../src/events/events.js';
import { listrRenderer } from '../../src/render/listr.js';

describe('listr2 renderer', () => {
  it('settles every host task, failed ones included, then prints the blocks and the summary', async () => {
    const out: string[] = [];
    const live = listrRenderer((t) => out.push(t));
    const events: RollgateEvent[] = [
      { type: 'fleet.started', at: 0, hosts: ['h01', 'h02'], forks: 50 },
      { type: 'host.connected', at: 1, host: 'h01', ms: 1 },
      { type: 'command.output', at: 2, host: 'h01', stdout: 'fine\n', stderr: '', exitCode: 0 },
      // h02 finishes before listr2 has even started its task: the task must still settle.
      {
        type: 'host.finished',
        at: 2,
        host: 'h02',
        status: 'unreachable',
        kind: 'auth',
        message: 'h02: the server refused every credential',
        ms: 2,
      },
      { type: 'host.finished', at: 3, host: 'h01', status: 'ok', ms: 3 },
      { type: 'fleet.finished', at: 3, ok: 1, failed: 0, unreachable: 1, ms: 3 },
    ];
    events.forEach(live.listener);
    await live.done();
    expect(out.join('')).toBe(
      'h02 | UNREACHABLE (auth) | 2 ms\nh02: the server refused every credential\nh01 | ok | rc=0 | 3 ms\nfine\nok=1 failed=0 unreachable=1 | 0.0 s\n',
    );
  });
});
