/**
 * A rollout host's guests (`rollout: guests:`): read from the pre-change snapshot, what the policy does with each
 * running guest is recorded in the host's record before any of them moves. Right before each reboot the rollout
 * asks for (the trial boot, the return to the known-good entry) movable guests live-migrate to the peer of the
 * host's cluster with the most free memory (the chosen peer recorded before the migration starts) and the others
 * are shut down; before the post-boot and after-rollback snapshots the shut-down ones start again and, with
 * `return: true`, the migrated ones come back; verification then requires every guest that ran before and is not
 * away to run. A host with running guests the policy refuses is not changed at all.
 */
import type { Connection } from '../../connection/connection.js';
import { valueOf } from '../../modules/facts/known.js';
import type { HostSnapshot } from '../../modules/facts/snapshot.js';
import {
  drainGuests,
  freeMemoryKiB,
  libvirtUriOf,
  migrateGuest,
  planDrain,
  refusalMessage,
  runsOn,
  startGuests,
  virsh,
  VIRSH_TIMEOUT_MS,
} from '../../modules/guests/drain.js';
import type { HostCtx } from './host-context.js';

/** Why the host must not be changed (its running guests), or null; records what happens to each guest. */
export function guestRefusal(h: HostCtx, pre: HostSnapshot): string | null {
  const { d, store } = h;
  if (!pre.guests) return null;
  if (pre.guests.status !== 'ok')
    return `cannot see the host's guests (${pre.guests.reason}); rollgate does not reboot a host whose guests it cannot see`;
  const view = valueOf(pre.guests);
  if (!view?.libvirt) return null;
  const peers = d.migrationPeers ?? [];
  const plan = planDrain(
    view,
    d.settings.guests,
    peers.length ? true : 'no other host of its rollgate_cluster outside its batch',
  );
  if (plan.refused.length) return refusalMessage(d.host.name, plan, "the play's `rollout: guests: shutdown`");
  if (plan.stop.length || plan.migrate.length) {
    store.save({
      guests: {
        uri: libvirtUriOf(d.host.vars) ?? null,
        stop: plan.stop.map((g) => g.name),
        migrate: plan.migrate,
        moved: {},
      },
    });
    h.step(
      'guests to drain',
      'ok',
      [
        plan.migrate.length
          ? `${plan.migrate.join(', ')} live-migrated to a peer (${peers.map((p) => p.name).join(', ')})`
          : '',
        plan.stop.length
          ? `${plan.stop.map((g) => g.name).join(', ')} shut down before each reboot and started again after`
          : '',
      ]
        .filter(Boolean)
        .join('; '),
    );
  }
  return null;
}

const progressOf = (h: HostCtx) => (message: string) =>
  h.d.emit({ type: 'host.guests', at: Date.now(), host: h.d.host.name, message });

/** The peer with the most free memory, as this host's virsh reads it (null: none answers). */
async function choosePeer(h: HostCtx, conn: Connection): Promise<{ name: string; uri: string } | null> {
  let best: { name: string; uri: string; free: number } | null = null;
  for (const p of h.d.migrationPeers ?? []) {
    const free = await freeMemoryKiB(conn, p.uri).catch(() => null);
    if (free !== null && (!best || free > best.free)) best = { ...p, free };
  }
  return best;
}

/**
 * Before a reboot: migrate the movable guests away, shut the others down. Throws when it cannot (the guests it shut
 * down already started again); guests migrated stay recorded, so the caller's return brings them back.
 */
export async function drainBeforeReboot(h: HostCtx, conn: Connection): Promise<void> {
  const g = h.store.rec.guests;
  if (!g || (!g.stop.length && !g.migrate?.length)) return;
  const name = 'drain the guests';
  const progress = progressOf(h);
  const uri = g.uri ?? undefined;
  h.step(name, 'started');
  try {
    const moved: string[] = [];
    for (const guest of g.migrate ?? []) {
      const here = await conn.exec(virsh(uri, 'list', '--state-running', '--name'), {
        timeoutMs: VIRSH_TIMEOUT_MS,
      });
      if (!here.stdout.split('\n').includes(guest)) continue; // already away (a resumed run, or a rollback's reboot)
      const peer = await choosePeer(h, conn);
      if (!peer) throw new Error(`no peer of the cluster answers for guest ${guest} (virsh nodememstats on each)`);
      // Where it goes is recorded before it goes.
      h.store.save({ guests: { ...g, moved: { ...(h.store.rec.guests?.moved ?? {}), [guest]: peer.uri } } });
      await migrateGuest(conn, uri, guest, peer.uri, { progress });
      moved.push(`${guest} -> ${peer.name}`);
    }
    const stopped = await drainGuests(conn, uri, g.stop, h.d.settings.guests, { progress });
    h.step(
      name,
      'ok',
      [moved.length ? `migrated ${moved.join(', ')}` : '', stopped.length ? `stopped ${stopped.join(', ')}` : '']
        .filter(Boolean)
        .join('; ') || 'none was running',
    );
  } catch (err) {
    h.step(name, 'failed', (err as Error).message);
    throw err;
  }
}

/**
 * Start the shut-down guests that are not running, and bring migrated ones back when the policy says `return` (or
 * `all`: a drain that did not lead to a reboot). A failure is a step, which the verification then shows.
 */
export async function startGuestsAgain(
  h: HostCtx,
  conn: Connection,
  opts: { returnAll?: boolean } = {},
): Promise<void> {
  const g = h.store.rec.guests;
  if (!g) return;
  const progress = progressOf(h);
  const uri = g.uri ?? undefined;
  const back = h.d.settings.guests.returnMigrated || opts.returnAll ? Object.entries(g.moved ?? {}) : [];
  if (!g.stop.length && !back.length) return;
  const name = 'bring the guests back';
  h.step(name, 'started');
  const done: string[] = [];
  const failed: string[] = [];
  for (const [guest, peerUri] of back) {
    try {
      // Home already (its migration never happened): nothing to move, only the record to clear.
      const home = await runsOn(conn, uri, guest);
      if (home) progress(`guest ${guest} runs here: its migration to ${peerUri} did not happen`);
      else await migrateGuest(conn, peerUri, guest, uri ?? 'qemu:///system', { progress });
      const moved = { ...(h.store.rec.guests?.moved ?? {}) };
      delete moved[guest];
      h.store.save({ guests: { ...g, moved } });
      done.push(home ? `${guest} was here` : `${guest} migrated back`);
    } catch (err) {
      failed.push((err as Error).message);
    }
  }
  try {
    const started = await startGuests(conn, uri, g.stop, { progress });
    if (started.length) done.push(`started ${started.join(', ')}`);
  } catch (err) {
    failed.push((err as Error).message);
  }
  if (failed.length) h.step(name, 'failed', failed.join('; '));
  else h.step(name, 'ok', done.join('; ') || 'all were running');
}

/** Guests that ran here before and are on a peer now (migrated, not brought back): not expected to run here. */
export function guestsAway(h: HostCtx): string[] {
  return Object.keys(h.store.rec.guests?.moved ?? {});
}
