/**
 * Maintenance windows, as Kured has them (--reboot-days, --start-time, --end-time, --time-zone): the days a window
 * opens on, its wall-clock start and end in a time zone (an end at or before the start closes on the next day;
 * start = end is a whole day), and what a rollout does outside one (wait for it, bounded, or stop). Pure: the
 * clock is an argument, time zones come from Intl, so daylight-saving changes follow the zone's own rules.
 */

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface MaintenanceWindow {
  /** Days the window opens on (the day of its start when it runs past midnight). */
  days: Weekday[];
  /** Minutes after local midnight, 0..1439. */
  startMin: number;
  endMin: number;
  /** IANA zone name, e.g. `Europe/Berlin`; default UTC. */
  timeZone: string;
  /** Outside the window: wait until it opens (at most maxWaitSec), or stop. Default wait. */
  onOutside: 'wait' | 'stop';
  /** Longest wait for the window to open, seconds. Default 86400 (one day). */
  maxWaitSec: number;
}

export type WindowState = { inside: true; closesAt: number } | { inside: false; opensAt: number | null };

export interface WindowInput {
  days?: string;
  start?: string;
  end?: string;
  timeZone?: string;
  onOutside?: string;
  maxWaitSec?: number;
}

export interface WindowProblem {
  /** The option or key at fault, e.g. `--start-time`. */
  option: keyof WindowInput;
  message: string;
  hint: string;
}

const HHMM = /^([01]?\d|2[0-3]):([0-5]\d)$/;
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const DAY_ALIASES: Record<string, Weekday> = Object.fromEntries(
  WEEKDAYS.flatMap((d, i) => [
    [d, d],
    [DAY_NAMES[i] ?? d, d],
  ]),
);

/** Whether Intl knows the zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Read a window from option strings; every problem at once, each with what to write instead. */
export function parseWindow(input: WindowInput): { window: MaintenanceWindow } | { problems: WindowProblem[] } {
  const problems: WindowProblem[] = [];
  const time = (option: 'start' | 'end', text: string | undefined, fallback: number): number => {
    if (text === undefined) return fallback;
    const m = HHMM.exec(text.trim());
    if (m) return Number(m[1]) * 60 + Number(m[2]);
    problems.push({ option, message: `${JSON.stringify(text)} is not a time of day`, hint: 'write HH:MM, e.g. 22:00' });
    return fallback;
  };
  const days: Weekday[] = [];
  for (const word of (input.days ?? WEEKDAYS.join(',')).split(/[\s,]+/).filter(Boolean)) {
    const day = DAY_ALIASES[word.toLowerCase()];
    if (day) {
      if (!days.includes(day)) days.push(day);
    } else
      problems.push({
        option: 'days',
        message: `${JSON.stringify(word)} is not a day of the week`,
        hint: 'write day names as sun,mon,tue,wed,thu,fri,sat',
      });
  }
  const timeZone = input.timeZone ?? 'UTC';
  if (!isTimeZone(timeZone))
    problems.push({
      option: 'timeZone',
      message: `${JSON.stringify(timeZone)} is not a time zone`,
      hint: 'write an IANA zone name, e.g. Europe/Berlin or UTC',
    });
  const onOutside = input.onOutside ?? 'wait';
  if (onOutside !== 'wait' && onOutside !== 'stop')
    problems.push({
      option: 'onOutside',
      message: `${JSON.stringify(onOutside)} is not wait or stop`,
      hint: 'write wait or stop',
    });
  const maxWaitSec = input.maxWaitSec ?? 86_400;
  if (!Number.isFinite(maxWaitSec) || maxWaitSec < 0)
    problems.push({ option: 'maxWaitSec', message: `${maxWaitSec} is not a number of seconds`, hint: 'e.g. 86400' });
  const startMin = time('start', input.start, 0);
  const endMin = time('end', input.end, input.start === undefined ? 0 : startMin);
  if (problems.length) return { problems };
  return {
    window: { days, startMin, endMin, timeZone, onOutside: onOutside as 'wait' | 'stop', maxWaitSec },
  };
}

interface Local {
  y: number;
  m: number;
  d: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's offset from UTC at instant t, milliseconds (Berlin in summer: +7200000). */
function offsetAt(t: number, zone: string): number {
  const parts = Object.fromEntries(
    formatter(zone)
      .formatToParts(new Date(t))
      .map((x) => [x.type, Number(x.value)]),
  );
  const p = (type: string) => parts[type] ?? 0;
  const wall = Date.UTC(p('year'), p('month') - 1, p('day'), p('hour'), p('minute'), p('second'));
  return wall - Math.floor(t / 1000) * 1000;
}

function localDate(t: number, zone: string): Local {
  const wall = new Date(t + offsetAt(t, zone));
  return { y: wall.getUTCFullYear(), m: wall.getUTCMonth(), d: wall.getUTCDate(), weekday: wall.getUTCDay() };
}

/**
 * The instant a local wall-clock time of a day has in the zone, disambiguated as Temporal's `compatible`: a time
 * the clock skips (the spring-forward gap) moves forward by the gap (02:30 -> 03:30), a time it shows twice
 * (autumn) is its first showing.
 */
export function zonedInstant(y: number, m: number, d: number, minutes: number, zone: string): number {
  const wall = Date.UTC(y, m, d, 0, minutes);
  // The offsets half a day either side cover any one transition (zones change at most once a day).
  const before = offsetAt(wall - 43_200_000, zone);
  const after = offsetAt(wall + 43_200_000, zone);
  const exact = [wall - before, wall - after].filter((t) => t + offsetAt(t, zone) === wall).sort((p, q) => p - q);
  return exact[0] ?? wall - before;
}

/** Inside the window at `now` (and when it closes), or when it next opens (null: it never does, no days). */
export function windowState(w: MaintenanceWindow, now: number): WindowState {
  const today = localDate(now, w.timeZone);
  let opensAt: number | null = null;
  for (let off = -1; off <= 8; off++) {
    const day = new Date(Date.UTC(today.y, today.m, today.d + off));
    if (!w.days.some((wd) => WEEKDAYS.indexOf(wd) === day.getUTCDay())) continue;
    const [y, m, d] = [day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()];
    const open = zonedInstant(y, m, d, w.startMin, w.timeZone);
    const close = zonedInstant(y, m, d + (w.endMin <= w.startMin ? 1 : 0), w.endMin, w.timeZone);
    if (open <= now && now < close) return { inside: true, closesAt: close };
    if (open > now && (opensAt === null || open < opensAt)) opensAt = open;
  }
  return { inside: false, opensAt };
}

const hhmm = (min: number) => `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;

/** `mon,tue 22:00-04:00 Europe/Berlin`. */
export function describeWindow(w: MaintenanceWindow): string {
  const days = w.days.length === 7 ? 'every day' : w.days.join(',');
  return `${days} ${hhmm(w.startMin)}-${hhmm(w.endMin)} ${w.timeZone}`;
}

/** An instant as the window's zone shows it: `2026-12-07 22:00 Europe/Berlin`. */
export function localTime(t: number, zone: string): string {
  const wall = new Date(t + offsetAt(t, zone)).toISOString();
  return `${wall.slice(0, 10)} ${wall.slice(11, 16)} ${zone}`;
}

export type WindowDecision =
  | { go: true }
  | { go: false; wait: true; until: number; message: string }
  | { go: false; wait: false; message: string };

/** What a host about to start its change does at `now`: go, wait until the window opens, or stop the rollout. */
export function decideWindow(w: MaintenanceWindow, now: number): WindowDecision {
  const s = windowState(w, now);
  if (s.inside) return { go: true };
  const where = `outside the maintenance window (${describeWindow(w)})`;
  if (s.opensAt === null) return { go: false, wait: false, message: `${where}: it never opens` };
  const opens = localTime(s.opensAt, w.timeZone);
  if (w.onOutside === 'stop') return { go: false, wait: false, message: `${where}; it opens at ${opens}` };
  if (s.opensAt - now > w.maxWaitSec * 1000)
    return {
      go: false,
      wait: false,
      message: `${where}; it opens at ${opens}, later than the longest wait (${w.maxWaitSec} s)`,
    };
  return { go: false, wait: true, until: s.opensAt, message: `${where}; waiting until it opens at ${opens}` };
}

/** The YAML key of each window setting, as `rollgate_window` and the play's `rollout: window:` write them. */
export const WINDOW_KEYS: Record<keyof WindowInput, string> = {
  days: 'days',
  start: 'start',
  end: 'end',
  timeZone: 'timezone',
  onOutside: 'on_outside',
  maxWaitSec: 'max_wait',
};

/**
 * A window written as a mapping, Kured's meaning with YAML keys:
 * `{days: [mon, tue], start: "22:00", end: "04:00", timezone: Europe/Berlin, on_outside: wait, max_wait: 86400}`.
 * `what` names it in messages (`rollgate_window`, `window`). Problems name the key at fault.
 */
export function windowFromMapping(
  raw: unknown,
  what: string,
): { window: MaintenanceWindow } | { problems: Array<WindowProblem & { key: string }> } {
  const shape = `${what}: {days: [mon, tue], start: "22:00", end: "04:00", timezone: Europe/Berlin}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { problems: [{ option: 'days', key: '', message: `${what} must be a mapping`, hint: shape }] };
  const m = raw as Record<string, unknown>;
  const known = Object.values(WINDOW_KEYS);
  const unknownKeys = Object.keys(m).filter((k) => !known.includes(k));
  if (unknownKeys.length)
    return {
      problems: unknownKeys.map((k) => ({
        option: 'days' as const,
        key: k,
        message: `${what} has no key ${k}`,
        hint: `its keys: ${known.join(', ')}; e.g. ${shape}`,
      })),
    };
  const r = parseWindow({
    ...(m.days !== undefined ? { days: Array.isArray(m.days) ? m.days.map(String).join(',') : String(m.days) } : {}),
    ...(m.start !== undefined ? { start: String(m.start) } : {}),
    ...(m.end !== undefined ? { end: String(m.end) } : {}),
    ...(m.timezone !== undefined ? { timeZone: String(m.timezone) } : {}),
    ...(m.on_outside !== undefined ? { onOutside: String(m.on_outside) } : {}),
    ...(m.max_wait !== undefined ? { maxWaitSec: Number(m.max_wait) } : {}),
  });
  return 'window' in r ? r : { problems: r.problems.map((p) => ({ ...p, key: WINDOW_KEYS[p.option] })) };
}

/**
 * A host's own window from its `rollgate_window` variable (windowFromMapping). Absent: undefined (the run's
 * window, if any, applies).
 */
export function hostWindowOf(
  vars: Readonly<Record<string, unknown>>,
): { ok: true; window?: MaintenanceWindow } | { ok: false; problems: WindowProblem[] } {
  const raw = vars.rollgate_window;
  if (raw === undefined || raw === null) return { ok: true };
  const r = windowFromMapping(raw, 'rollgate_window');
  return 'window' in r ? { ok: true, window: r.window } : { ok: false, problems: r.problems };
}
