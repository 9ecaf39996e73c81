/**
 * Taking a host through a boot and knowing where it landed: ask for a reboot (detached), wait for a full login
 * on a new boot id within the boot timeout, and when the host stays silent, reset it through its power driver
 * and wait again. The boot id before the reboot is journaled first, so a resumed run can tell "rebooted" from
 * "not yet". Outcomes are values.
 */
import { ConnectionError, type Connection } from '../../connection/connection.js';
import {
  readBootInfo,
  requestReboot,
  waitForNewBootId,
  type BootInfo,
  type WaitOutcome,
} from '../../modules/boot/reboot-proof.js';
import type { HostCtx } from './host-context.js';

export type BootOutcome = WaitOutcome & { reset: boolean };

/**
 * The host's boot id and command line, or undefined when the connection went while reading them (dropped or
 * timed out: a host on its way down). Other errors are thrown.
 */
export async function bootInfoOrGone(conn: Connection, h: HostCtx): Promise<BootInfo | undefined> {
  try {
    return await readBootInfo(conn, h.d.hr);
  } catch (err) {
    if (err instanceof ConnectionError && (err.kind === 'dropped' || err.kind === 'timeout')) return undefined;
    throw err;
  }
}

/** Wait for a boot other than `oldBootId`, within the host's boot timeout. */
export function waitForNewBoot(h: HostCtx, oldBootId: string): Promise<WaitOutcome> {
  const { d } = h;
  return waitForNewBootId(d.open, d.hr, oldBootId, {
    timeoutMs: d.settings.bootTimeoutSec * 1000,
    pollMs: d.pollMs,
  });
}

/** Power-reset the host (it did not come back by itself) and wait for the boot after the reset. */
export async function powerResetAndWait(h: HostCtx, why: string, oldBootId: string): Promise<BootOutcome> {
  const { d } = h;
  if (!d.power)
    return {
      status: 'timeout',
      ms: 0,
      lastError: `${why}, and no power driver is configured (rollgate_power)`,
      reset: false,
    };
  d.emit({
    type: 'rollout.rollback',
    at: Date.now(),
    runId: d.runId,
    host: d.host.name,
    action: 'power_reset',
    reason: `${why}; resetting through ${d.power.describe}`,
  });
  try {
    await d.power.reset();
  } catch (err) {
    return {
      status: 'timeout',
      ms: 0,
      lastError: `power reset through ${d.power.describe} failed: ${(err as Error).message}`,
      reset: true,
    };
  }
  return { ...(await waitForNewBoot(h, oldBootId)), reset: true };
}

/**
 * Reboot the host from inside (or, with no connection, only wait for it, then reset it) and return the
 * connection to the new boot. The one-shot entry is armed or consumed as the caller needs beforehand.
 */
export async function bootAndWait(h: HostCtx, why: string, conn: Connection | null): Promise<BootOutcome> {
  const { d, store } = h;
  const now = conn ? await bootInfoOrGone(conn, h) : undefined;
  if (conn && !now) {
    // The host closed the connection as we looked: it is going down (a reboot already asked for). Wait for the
    // boot after the one the record knows, as for a silent host.
    await conn.close().catch(() => undefined);
    conn = null;
  }
  const old = now ? now.bootId : (store.rec.oldBootId ?? '');
  store.save({ oldBootId: old });
  // Without a connection the host is silent now (a resumed run finds it mid-boot, most often): it gets its whole
  // boot timeout before a reset, as a rebooting host does; a reset in the middle of its boot would throw the
  // one-shot trial away.
  const step = conn ? `reboot (${why})` : `wait for the host (${why})`;
  if (conn) {
    // A throwaway root (tests) shares its machine with others: never reboot that machine by accident.
    if (d.hr.root !== '/' && !d.rebootCommand)
      throw new Error(
        `${d.host.name} works under rollgate_root ${d.hr.root}: set rollgate_reboot_command to say how it reboots`,
      );
    h.step(step, 'started');
    try {
      await requestReboot(conn, d.rebootCommand);
    } catch (err) {
      // The connection went while the request ran: the host is most likely going down already (a reboot asked for
      // by a controller killed a moment earlier, or this one): wait for the new boot, and reset at the boot timeout
      // as for a reboot that hangs. A request the host answered with a refusal is an error.
      if (!(err instanceof ConnectionError && (err.kind === 'dropped' || err.kind === 'timeout'))) throw err;
      h.step(
        step,
        'started',
        `the connection went during the reboot request (${err.message}); waiting for the new boot`,
      );
    }
    await conn.close().catch(() => undefined);
  } else {
    h.step(step, 'started');
  }
  const back = await waitForNewBoot(h, old);
  if (back.status === 'back') {
    h.step(step, 'ok', `back in ${(back.ms / 1000).toFixed(0)} s`);
    return { ...back, reset: false };
  }
  h.step(step, 'failed', `not back within ${d.settings.bootTimeoutSec} s: ${back.lastError}`);
  const reset = await powerResetAndWait(h, `not back within ${d.settings.bootTimeoutSec} s (${why})`, old);
  if (reset.status === 'back') h.step('power reset', 'ok', `back in ${(reset.ms / 1000).toFixed(0)} s`);
  return reset;
}
