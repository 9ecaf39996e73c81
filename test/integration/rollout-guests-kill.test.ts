/**
 * kill -9 of the rollout's controller while a guest's live migration waits on its peer, with the CLI as a real
 * process, real sshd hosts and real libvirtds (support/libvirt-session.ts). The peer's libvirt is reached through a
 * relay that lets the controller choose it (its free memory) and then holds the migration's own connection, so the
 * controller dies with `virsh migrate` waiting and the guest recorded as moved. What happens to that orphaned
 * migration is not the controller's to decide: it fails on its own (the peer never answered) or finishes once the
 * peer answers. `rollgate resume` must find the guest wherever it ended, undo the play's changes (the host was
 * stopped before its trial boot) and leave the guest running on its own host, never lost between the two.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLEET_ADMIN_USER, startSshdFleet, type SshdFleet } from '../../src/lab/sshd-fleet.js';
import { buildRoot } from './support/fake-root.js';
import { useRealGrubTools } from './support/grub-root.js';
import { removeRoot, tempRoot } from './support/module-host.js';
import { ensureBuilt, rollgate } from './support/cli.js';
import { peek, startCli, until } from './support/cli-process.js';
import { startLibvirtSession, type LibvirtSession } from './support/libvirt-session.js';
import { holdingRelay, type HeldSocket } from './support/held-socket.js';

const FAKE_BOOT = new URL('../fixtures/trial-boot/fake-boot', import.meta.url).pathname;
let fleet: SshdFleet;
let dir: string;
let home: LibvirtSession;
let peer: LibvirtSession;
const relays: HeldSocket[] = [];
const roots: string[] = [];

const socketOf = (uri: string) => new URL(uri).searchParams.get('socket')!;
const names = (s: LibvirtSession) => s.virsh('list', '--name').split('\n').filter(Boolean);
/** A fresh `web` on h01's libvirt, none on the peer's (whatever an earlier test left). */
function freshGuest(): number | null {
  for (const s of [home, peer])
    for (const cmd of [
      ['destroy', 'web'],
      ['undefine', 'web'],
    ])
      try {
        s.virsh(...cmd);
      } catch {
        // not there
      }
  home.startIdleGuest('web');
  return home.qemuPid('web');
}

/** h01 runs the guest on `home`; h02, its cluster peer, is reached for migrations through `peerUri`. */
function inventory(file: string, peerUri: string): string {
  const vars = [
    { libvirt: home.uri, migrate: home.uri },
    { libvirt: peer.uri, migrate: peerUri },
  ];
  const hosts = fleet.hosts
    .map(
      (h, i) =>
        `    ${h.name}:\n      ansible_port: ${h.port}\n      rollgate_root: ${roots[i]}\n      rollgate_reboot_command: ${FAKE_BOOT} ${roots[i]}\n` +
        `      rollgate_cluster: rack1\n      rollgate_libvirt_uri: "${vars[i]!.libvirt}"\n      rollgate_migrate_uri: "${vars[i]!.migrate}"\n`,
    )
    .join('');
  writeFileSync(
    file,
    `all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_user: ${FLEET_ADMIN_USER}\n    ansible_ssh_private_key_file: ${fleet.clientKey}\n    rollgate_known_hosts_file: ${fleet.knownHosts}\n  hosts:\n${hosts}`,
  );
  return file;
}

const PLAY = `- hosts: all
  become: true
  rollout:
    guests: { movable: migrate, return: true }
  tasks:
    - kernel_args: { present: [rollgate.drain=killed] }
    - reboot: { reason: test }
`;

const runIdOf = (journal: string) =>
  until(() =>
    peek(
      journal,
      (db) => (db.prepare('SELECT id FROM runs ORDER BY started_at LIMIT 1').get() as { id: string } | undefined)?.id,
    ),
  );
const guestLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; host?: string; message?: string })
    .filter((e) => e.type === 'host.guests')
    .map((e) => e.message);

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'rg-drain-kill-'));
  chmodSync(dir, 0o755);
  fleet = await startSshdFleet({ count: 2, dir: join(dir, 'fleet') });
  home = await startLibvirtSession();
  peer = await startLibvirtSession();
}, 120_000);
afterAll(async () => {
  for (const r of relays) await r.close();
  home?.stop();
  peer?.stop();
  await fleet?.stop();
  roots.forEach(removeRoot);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Start the rollout, wait until its migration of `web` waits on the held peer, kill -9 its controller. Returns
 * the run id, the journal, the inventory and the relay (still holding the migration's connection).
 */
async function killDuringMigration(name: string) {
  roots.splice(0, roots.length);
  for (let i = 0; i < 2; i++) {
    const r = tempRoot(`${name}${i}`);
    buildRoot(r, 'debian');
    useRealGrubTools(r, { grubenv: 'created' });
    roots.push(r);
  }
  // The first connection to the peer is the controller's `virsh nodememstats` (choosing it); the second is the
  // migration's.
  const relay = await holdingRelay(socketOf(peer.uri), 1);
  relays.push(relay);
  const inv = inventory(join(dir, `${name}.yml`), `qemu:///session?socket=${relay.path}`);
  const journal = join(dir, `${name}.db`);
  const play = join(dir, `${name}-play.yml`);
  writeFileSync(play, PLAY);
  const grubBefore = readFileSync(join(roots[0]!, 'etc/default/grub'), 'utf8');
  const rollout = startCli(['rollout', play, '-i', inv, '--journal', journal, '--yes', '--json']);
  await until(() => relay.held() > 0, 90_000).catch(async (err: Error) => {
    rollout.child.kill('SIGKILL');
    const out = await rollout.done;
    throw new Error(`${err.message}: the migration never reached the peer\n${out.stdout.slice(-3000)}${out.stderr}`);
  });
  rollout.child.kill('SIGKILL');
  const out = await rollout.done;
  expect(guestLines(out.stdout)).toEqual([`migrating guest web to qemu:///session?socket=${relay.path}`]);
  // The play's change is on h01, its trial boot not armed: the host stopped mid-change.
  expect(readFileSync(join(roots[0]!, 'etc/default/grub'), 'utf8')).toContain('rollgate.drain=killed');
  return { id: await runIdOf(journal), journal, inv, relay, grubBefore };
}

describe('kill -9 while a guest live-migrates for the drain (real libvirtd, CLI process)', () => {
  it('the migration then never happens: resume finds the guest at home, undoes the change and ends rolled back', async () => {
    const pid = freshGuest();
    const { id, journal, relay, grubBefore } = await killDuringMigration('never');
    // The peer never answers the orphaned `virsh migrate`, which fails; the guest never left.
    relay.drop();
    const resumed = await rollgate(['resume', id, '--journal', journal, '--yes', '--json']);
    expect(resumed.stderr).not.toContain('internal error');
    expect(resumed.code, resumed.stdout.slice(-3000) + resumed.stderr).toBe(3);
    expect(guestLines(resumed.stdout)).toEqual([
      `guest web runs here: its migration to qemu:///session?socket=${relay.path} did not happen`,
    ]);
    expect(resumed.stdout).toMatch(/"step":"bring the guests back","status":"ok","message":"web was here"/);
    expect([names(home), names(peer)]).toEqual([['web'], []]);
    expect(home.qemuPid('web')).toBe(pid);
    expect(readFileSync(join(roots[0]!, 'etc/default/grub'), 'utf8')).toBe(grubBefore);
  }, 240_000);

  it('the migration finishes after the controller died: resume brings the guest back from the peer, undoes the change, rolled back', async () => {
    freshGuest();
    const { id, journal, relay, grubBefore } = await killDuringMigration('later');
    // The peer answers at last: the orphaned `virsh migrate` goes on without its controller and the guest moves.
    relay.release();
    await until(() => names(peer).includes('web') && !names(home).includes('web'), 90_000).catch((err: Error) => {
      throw new Error(
        `${err.message}: the orphaned migration did not finish (home ${names(home)}, peer ${names(peer)})`,
      );
    });
    const resumed = await rollgate(['resume', id, '--journal', journal, '--yes', '--json']);
    expect(resumed.stderr).not.toContain('internal error');
    expect(resumed.code, resumed.stdout.slice(-3000) + resumed.stderr).toBe(3);
    expect(guestLines(resumed.stdout)).toEqual([`migrating guest web to ${home.uri}`]);
    expect(resumed.stdout).toMatch(/"step":"bring the guests back","status":"ok","message":"web migrated back"/);
    expect([names(home), names(peer)]).toEqual([['web'], []]);
    expect(readFileSync(join(roots[0]!, 'etc/default/grub'), 'utf8')).toBe(grubBefore);
  }, 240_000);
});
