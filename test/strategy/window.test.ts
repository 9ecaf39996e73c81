import { describe, expect, it } from 'vitest';
import {
  hostWindowOf,
  decideWindow,
  describeWindow,
  parseWindow,
  windowState,
  zonedInstant,
  type MaintenanceWindow,
  type WindowInput,
} from '../../src/strategy/window.js';

function win(input: WindowInput): MaintenanceWindow {
  const r = parseWindow(input);
  if ('problems' in r) throw new Error(JSON.stringify(r.problems));
  return r.window;
}
const at = (iso: string) => Date.parse(iso);
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

describe('parseWindow', () => {
  it('reads Kured-style options and reports every bad one with what to write', () => {
    expect(describeWindow(win({ days: 'mon,Tuesday', start: '22:00', end: '4:00', timeZone: 'Europe/Berlin' }))).toBe(
      'mon,tue 22:00-04:00 Europe/Berlin',
    );
    expect(describeWindow(win({}))).toBe('every day 00:00-00:00 UTC');
    expect(parseWindow({ days: 'mon,funday', start: '25:00', timeZone: 'Mars/Olympus', onOutside: 'later' })).toEqual({
      problems: [
        {
          option: 'days',
          message: '"funday" is not a day of the week',
          hint: 'write day names as sun,mon,tue,wed,thu,fri,sat',
        },
        {
          option: 'timeZone',
          message: '"Mars/Olympus" is not a time zone',
          hint: 'write an IANA zone name, e.g. Europe/Berlin or UTC',
        },
        { option: 'onOutside', message: '"later" is not wait or stop', hint: 'write wait or stop' },
        { option: 'start', message: '"25:00" is not a time of day', hint: 'write HH:MM, e.g. 22:00' },
      ],
    });
  });
});

describe('windowState', () => {
  // 2026-12-07 is a Monday; Berlin is UTC+1 in winter.
  const night = win({ days: 'mon,tue', start: '22:00', end: '04:00', timeZone: 'Europe/Berlin' });
  it.each([
    ['2026-12-07T20:59:00Z', false, '2026-12-07T21:00:00.000Z'],
    ['2026-12-07T21:00:00Z', true, '2026-12-08T03:00:00.000Z'],
    // Wednesday 03:59 local belongs to Tuesday's window, which runs past midnight.
    ['2026-12-09T02:59:00Z', true, '2026-12-09T03:00:00.000Z'],
    // Wednesday 22:00 local is not a window day: next is Monday.
    ['2026-12-09T21:30:00Z', false, '2026-12-14T21:00:00.000Z'],
  ])('at %s inside=%s (closes or opens at %s)', (now, inside, when) => {
    const s = windowState(night, at(now));
    expect(s.inside).toBe(inside);
    expect(iso(s.inside ? s.closesAt : s.opensAt)).toBe(when);
  });

  it('follows the zone across daylight-saving changes (Berlin: 29 March and 25 October 2026)', () => {
    const early = win({ days: 'sun', start: '01:00', end: '05:00', timeZone: 'Europe/Berlin' });
    // Spring: 01:00 is still UTC+1, 05:00 already UTC+2: a window of three real hours.
    expect(windowState(early, at('2026-03-29T00:30:00Z'))).toEqual({
      inside: true,
      closesAt: at('2026-03-29T03:00:00Z'),
    });
    // Autumn: 05:00 is UTC+1 again, 01:00 still UTC+2: five real hours.
    expect(windowState(early, at('2026-10-25T03:59:00Z'))).toEqual({
      inside: true,
      closesAt: at('2026-10-25T04:00:00Z'),
    });
    expect(windowState(early, at('2026-10-24T23:00:00Z'))).toEqual({
      inside: true,
      closesAt: at('2026-10-25T04:00:00Z'),
    });
    // 02:30 does not exist on 29 March: it moves forward by the gap, to 03:30 CEST.
    expect(iso(zonedInstant(2026, 2, 29, 150, 'Europe/Berlin'))).toBe('2026-03-29T01:30:00.000Z');
    // 02:30 exists twice on 25 October: the first, still CEST.
    expect(iso(zonedInstant(2026, 9, 25, 150, 'Europe/Berlin'))).toBe('2026-10-25T00:30:00.000Z');
    // New York's change (8 March 2026) is its own, not Berlin's.
    expect(iso(zonedInstant(2026, 2, 8, 180, 'America/New_York'))).toBe('2026-03-08T07:00:00.000Z');
  });

  it('never opens without days', () => {
    const none = { ...win({}), days: [] };
    expect(windowState(none, at('2026-12-07T00:00:00Z'))).toEqual({ inside: false, opensAt: null });
  });
});

describe('decideWindow', () => {
  const night = win({ days: 'mon', start: '22:00', end: '04:00', timeZone: 'Europe/Berlin' });
  it('goes inside, waits with the local time it opens, and stops when asked to or when the wait is too long', () => {
    expect(decideWindow(night, at('2026-12-07T22:00:00Z'))).toEqual({ go: true });
    expect(decideWindow(night, at('2026-12-07T12:00:00Z'))).toEqual({
      go: false,
      wait: true,
      until: at('2026-12-07T21:00:00Z'),
      message:
        'outside the maintenance window (mon 22:00-04:00 Europe/Berlin); waiting until it opens at 2026-12-07 22:00 Europe/Berlin',
    });
    expect(decideWindow({ ...night, onOutside: 'stop' }, at('2026-12-07T12:00:00Z'))).toEqual({
      go: false,
      wait: false,
      message:
        'outside the maintenance window (mon 22:00-04:00 Europe/Berlin); it opens at 2026-12-07 22:00 Europe/Berlin',
    });
    expect(decideWindow(night, at('2026-12-08T12:00:00Z'))).toMatchObject({
      go: false,
      wait: false,
      message: expect.stringContaining(
        'it opens at 2026-12-14 22:00 Europe/Berlin, later than the longest wait (86400 s)',
      ),
    });
  });
});

describe('hostWindowOf', () => {
  it("reads a host's rollgate_window mapping and says what is wrong with a bad one", () => {
    const r = hostWindowOf({
      rollgate_window: {
        days: ['mon', 'tue'],
        start: '22:00',
        end: '04:00',
        timezone: 'Europe/Berlin',
        on_outside: 'stop',
      },
    });
    expect(r.ok && r.window && describeWindow(r.window)).toBe('mon,tue 22:00-04:00 Europe/Berlin');
    expect(r.ok && r.window?.onOutside).toBe('stop');
    expect(hostWindowOf({})).toEqual({ ok: true });
    expect(hostWindowOf({ rollgate_window: { days: 'mon', begin: '22:00' } })).toMatchObject({
      ok: false,
      problems: [{ message: 'rollgate_window has no key begin' }],
    });
    expect(hostWindowOf({ rollgate_window: 'mon 22:00' })).toMatchObject({
      ok: false,
      problems: [{ message: 'rollgate_window must be a mapping' }],
    });
  });
});
