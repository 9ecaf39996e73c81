/**
 * The maintenance window before a host's change starts (strategy/window.ts decides): inside, go; outside, wait
 * until it opens (said once on the host's lane, with the local time it opens; bounded by the window's longest
 * wait; an operator's stop ends the wait), or stop the rollout before this host. A host already started is never
 * gated: it finishes (or rolls back) past the window's end.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { RollgateEvent } from '../../events/events.js';
import { decideWindow, type MaintenanceWindow } from '../../strategy/window.js';

export interface WindowGateDeps {
  /** The run's window (--reboot-days ...); undefined: none. */
  window: MaintenanceWindow | undefined;
  /** Hosts' own windows (rollgate_window), ahead of the run's. */
  byHost?: ReadonlyMap<string, MaintenanceWindow>;
  runId: string;
  host: string;
  emit(event: RollgateEvent): void;
  /** Default Date.now. */
  now?: () => number;
  /** Default: a timer that the stop signal cancels. */
  sleep?: (ms: number, stop: AbortSignal) => Promise<void>;
  stop: AbortSignal;
}

export type WindowGate = { ok: true } | { ok: false; message: string };

const STEP = 'wait for the maintenance window';
/** Re-read the clock at least this often while waiting (a suspended controller, a changed clock). */
const RECHECK_MS = 60_000;

const defaultSleep = (ms: number, stop: AbortSignal) =>
  sleepFor(ms, undefined, { signal: stop }).catch(() => undefined);

export async function passWindow(d: WindowGateDeps): Promise<WindowGate> {
  const window = d.byHost?.get(d.host) ?? d.window;
  if (!window) return { ok: true };
  const now = d.now ?? Date.now;
  const sleep = d.sleep ?? defaultSleep;
  const step = (status: 'started' | 'ok' | 'failed', message: string) =>
    d.emit({ type: 'rollout.host_step', at: now(), runId: d.runId, host: d.host, step: STEP, status, message });
  let waiting = false;
  for (;;) {
    if (d.stop.aborted) return { ok: false, message: String(d.stop.reason) };
    const decision = decideWindow(window, now());
    if (decision.go) {
      if (waiting) step('ok', 'the window is open');
      return { ok: true };
    }
    if (!decision.wait) {
      if (waiting) step('failed', decision.message);
      return { ok: false, message: decision.message };
    }
    if (!waiting) step('started', decision.message);
    waiting = true;
    await sleep(Math.min(Math.max(decision.until - now(), 0), RECHECK_MS), d.stop);
  }
}
