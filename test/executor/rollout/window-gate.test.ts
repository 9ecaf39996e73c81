import { describe, expect, it } from 'vitest';
import { passWindow } from '../../../src/executor/rollout/window-gate.js';
import { parseWindow, type MaintenanceWindow } from '../../../src/strategy/window.js';
import type { RollgateEvent } from '../../../src/events/events.js';

const window = (
  parseWindow({ days: 'mon', start: '22:00', end: '23:00', timeZone: 'UTC', maxWaitSec: 7200 }) as {
    window: MaintenanceWindow;
  }
).window;
const at = (iso: string) => Date.parse(iso);

function clock(start: number) {
  let t = start;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
    slept,
  };
}

describe('the maintenance window gate', () => {
  it('waits for a window that has not opened, saying until when, then goes', async () => {
    const c = clock(at('2026-12-07T21:00:00Z')); // a Monday, an hour early
    const events: RollgateEvent[] = [];
    const gate = await passWindow({
      window,
      runId: 'r',
      host: 'hv1',
      emit: (e) => events.push(e),
      now: c.now,
      sleep: c.sleep,
      stop: new AbortController().signal,
    });
    expect(gate).toEqual({ ok: true });
    expect(c.slept.reduce((a, b) => a + b, 0)).toBe(3_600_000);
    expect(events.map((e) => (e.type === 'rollout.host_step' ? [e.status, e.message] : e.type))).toEqual([
      [
        'started',
        'outside the maintenance window (mon 22:00-23:00 UTC); waiting until it opens at 2026-12-07 22:00 UTC',
      ],
      ['ok', 'the window is open'],
    ]);
  });

  it('stops without waiting when the window opens later than the longest wait, or when told to stop', async () => {
    const c = clock(at('2026-12-08T12:00:00Z'));
    const gate = await passWindow({
      window,
      runId: 'r',
      host: 'hv1',
      emit: () => {},
      now: c.now,
      sleep: c.sleep,
      stop: new AbortController().signal,
    });
    expect(gate).toEqual({
      ok: false,
      message:
        'outside the maintenance window (mon 22:00-23:00 UTC); it opens at 2026-12-14 22:00 UTC, later than the longest wait (7200 s)',
    });
    const stop = new AbortController();
    stop.abort('SIGINT');
    expect(
      await passWindow({
        window,
        runId: 'r',
        host: 'hv1',
        emit: () => {},
        now: c.now,
        sleep: c.sleep,
        stop: stop.signal,
      }),
    ).toEqual({
      ok: false,
      message: 'SIGINT',
    });
    expect(c.slept).toEqual([]);
  });

  it("takes a host's own window ahead of the run's", async () => {
    const c = clock(at('2026-12-07T22:30:00Z'));
    const closed = { ...window, days: [] };
    const deps = {
      window: closed,
      runId: 'r',
      emit: () => {},
      now: c.now,
      sleep: c.sleep,
      stop: new AbortController().signal,
    };
    const byHost = new Map([['hv1', window]]);
    expect(await passWindow({ ...deps, byHost, host: 'hv1' })).toEqual({ ok: true });
    expect(await passWindow({ ...deps, byHost, host: 'hv2' })).toMatchObject({ ok: false });
  });

  it('lets every host through when no window is set', async () => {
    expect(
      await passWindow({
        window: undefined,
        runId: 'r',
        host: 'h',
        emit: () => {},
        stop: new AbortController().signal,
      }),
    ).toEqual({ ok: true });
  });
});
