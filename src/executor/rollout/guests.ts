/**
 * A rollout host's guests (`rollout: guests:`): read from the pre-change snapshot, the running ones the policy
 * shuts down are recorded in the host's record before any of them stops; they are shut down right before each
 * reboot the rollout asks for (the trial boot, the return to the known-good entry) and started again before the
 * post-boot and after-rollback snapshots, whose verification then requires every guest that ran before to run.
 * A host with running guests the policy refuses is not changed at all.
 */
import type { Connection } from '../../connection/connection.js';
import { valueOf } from '../../modules/facts/known.js';
import type { HostSnapshot } from '../../modules/facts/snapshot.js';
import { drainGuests, libvirtUriOf, planDrain, refusalMessage, startGuests } from '../../modules/guests/drain.js';
import type { HostCtx } from './host-context.js';

/** Why the host must not be changed (its running guests), or null; records the guests to stop. */
export function guestRefusal(h: HostCtx, pre: HostSnapshot): string | null {
  const { d, store } = h;
  if (!pre.guests) return null;
  if (pre.guests.status !== 'ok')
    return `cannot see the host's guests (${pre.guests.reason}); rollgate does not reboot a host whose guests it cannot see`;
  const view = valueOf(pre.guests);
  if (!view?.libvirt) return null;
  const plan = planDrain(view, d.settings.guests);
  if (plan.refused.length) return refusalMessage(d.host.name, plan, "the play's `rollout: guests: shutdown`");
  if (plan.stop.length) {
    store.save({ guests: { uri: libvirtUriOf(d.host.vars) ?? null, stop: plan.stop.map((g) => g.name) } });
    h.step(
      'guests to drain',
      'ok',
      `${plan.stop.map((g) => g.name).join(', ')} shut down before each reboot and started again after`,
    );
  }
  return null;
}

/** Shut the recorded guests down before a reboot; throws (having started the stopped ones again) when it cannot. */
export async function drainBeforeReboot(h: HostCtx, conn: Connection): Promise<void> {
  const g = h.store.rec.guests;
  if (!g?.stop.length) return;
  const name = 'shut the guests down';
  h.step(name, 'started');
  try {
    const stopped = await drainGuests(conn, g.uri ?? undefined, g.stop, h.d.settings.guests, {
      progress: (message) => h.d.emit({ type: 'host.guests', at: Date.now(), host: h.d.host.name, message }),
    });
    h.step(name, 'ok', stopped.length ? `stopped ${stopped.join(', ')}` : 'none was running');
  } catch (err) {
    h.step(name, 'failed', (err as Error).message);
    throw err;
  }
}

/** Start the recorded guests that are not running; a failure is a step, which the verification then shows. */
export async function startGuestsAgain(h: HostCtx, conn: Connection): Promise<void> {
  const g = h.store.rec.guests;
  if (!g?.stop.length) return;
  const name = 'start the guests again';
  h.step(name, 'started');
  try {
    const started = await startGuests(conn, g.uri ?? undefined, g.stop, {
      progress: (message) => h.d.emit({ type: 'host.guests', at: Date.now(), host: h.d.host.name, message }),
    });
    h.step(name, 'ok', started.length ? `started ${started.join(', ')}` : 'all were running');
  } catch (err) {
    h.step(name, 'failed', (err as Error).message);
  }
}
