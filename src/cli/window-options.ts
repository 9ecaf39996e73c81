/**
 * The maintenance window options of `rollout` and `resume` (Kured's names: --reboot-days, --start-time,
 * --end-time, --time-zone, plus --on-outside and --window-max-wait): declared once, read into the window input the
 * run keeps, parsed with bad values as exit 2 naming their option, and given back as options on resume.
 */
import type { Command } from 'commander';
import { ConfigError } from '../core/config-error.js';
import type { MaintenanceWindow, WindowInput } from '../strategy/window.js';

export interface WindowOptions {
  rebootDays?: string;
  startTime?: string;
  endTime?: string;
  timeZone?: string;
  onOutside?: string;
  windowMaxWait?: string;
}

/** The maintenance window options (Kured's names) as window input; undefined when none is given. */
export function windowInputOf(opts: WindowOptions): WindowInput | undefined {
  const given = {
    ...(opts.rebootDays !== undefined ? { days: opts.rebootDays } : {}),
    ...(opts.startTime !== undefined ? { start: opts.startTime } : {}),
    ...(opts.endTime !== undefined ? { end: opts.endTime } : {}),
    ...(opts.timeZone !== undefined ? { timeZone: opts.timeZone } : {}),
    ...(opts.onOutside !== undefined ? { onOutside: opts.onOutside } : {}),
    ...(opts.windowMaxWait !== undefined ? { maxWaitSec: Number(opts.windowMaxWait) } : {}),
  };
  return Object.keys(given).length ? given : undefined;
}

const WINDOW_FLAGS: Record<keyof WindowInput, string> = {
  days: '--reboot-days',
  start: '--start-time',
  end: '--end-time',
  timeZone: '--time-zone',
  onOutside: '--on-outside',
  maxWaitSec: '--window-max-wait',
};

/** Parse the window; bad values are the operator's mistake (exit 2), named by their option. */
export async function windowOf(input: WindowInput | undefined): Promise<MaintenanceWindow | undefined> {
  if (!input) return undefined;
  const { parseWindow } = await import('../strategy/window.js');
  const r = parseWindow(input);
  if ('window' in r) return r.window;
  throw new ConfigError(r.problems.map((p) => ({ message: `${WINDOW_FLAGS[p.option]}: ${p.message}`, hint: p.hint })));
}

/** A stored window input back as options (resume). */
export function windowFlagsOf(w: WindowInput | undefined): WindowOptions {
  if (!w) return {};
  return {
    ...(w.days !== undefined ? { rebootDays: w.days } : {}),
    ...(w.start !== undefined ? { startTime: w.start } : {}),
    ...(w.end !== undefined ? { endTime: w.end } : {}),
    ...(w.timeZone !== undefined ? { timeZone: w.timeZone } : {}),
    ...(w.onOutside !== undefined ? { onOutside: w.onOutside } : {}),
    ...(w.maxWaitSec !== undefined ? { windowMaxWait: String(w.maxWaitSec) } : {}),
  };
}

export function windowOptions(cmd: Command): Command {
  return cmd
    .option(
      '--reboot-days <days>',
      'maintenance window: days a host change may start (e.g. mon,tue; default every day)',
    )
    .option('--start-time <HH:MM>', 'maintenance window: local start time (default 00:00)')
    .option('--end-time <HH:MM>', 'maintenance window: local end time; at or before the start: the next day')
    .option('--time-zone <zone>', 'maintenance window: IANA time zone (default UTC)')
    .option('--on-outside <wait|stop>', 'outside the window: wait until it opens (default) or stop')
    .option('--window-max-wait <seconds>', 'longest wait for the window to open before stopping (default 86400)');
}
