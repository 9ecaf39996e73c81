/**
 * The reboot task on a host with running guests, through a real libvirtd and virsh (support/libvirt-session.ts)
 * over a real sshd: refused without a `guests:` policy (even in check mode), drained and started again with one,
 * and a drain that cannot finish leaves the host unrebooted with every guest running.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import type { Connection } from '../../src/connection/connection.js';
import type { RollgateEvent } from '../../src/events/events.js';
import type { ModuleContext } from '../../src/modules/module.js';
import { reboot } from '../../src/modules/actions/reboot.js';
import { drainGuests, drainPolicyFrom } from '../../src/modules/guests/drain.js';
import { connect, removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { buildRoot } from './support/fake-root.js';
import { startLibvirtSession, type LibvirtSession } from './support/libvirt-session.js';

let fleet: SshdFleet;
let lv: LibvirtSession;
const roots: string[] = [];
const open: Connection[] = [];

async function context(vars: Record<string, unknown>, events: RollgateEvent[] = []): Promise<ModuleContext> {
  const r = tempRoot('reboot-guests');
  roots.push(r);
  buildRoot(r, 'debian');
  const ctx = {
    conn: (await connect(fleet, 0)) as Connection,
    host: 'hv01',
    vars: { rollgate_root: r, rollgate_reboot_poll_seconds: 0.3, ...vars },
    checkMode: false,
    emit: (e: RollgateEvent) => events.push(e),
    async reconnect() {
      await ctx.conn.close();
      ctx.conn = await connect(fleet, 0);
      open.push(ctx.conn);
      return ctx.conn;
    },
  };
  open.push(ctx.conn);
  return ctx;
}
const bootId = (ctx: ModuleContext) =>
  readFileSync(join(String(ctx.vars.rollgate_root), 'proc/sys/kernel/random/boot_id'), 'utf8').trim();
const state = (name: string) => lv.virsh('domstate', name).trim();

beforeAll(async () => {
  fleet = await startFleet(1);
  lv = await startLibvirtSession();
  lv.startIdleGuest('web');
  lv.startIdleGuest('db');
}, 120_000);
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  lv?.stop();
  await fleet?.stop();
  roots.forEach(removeRoot);
});

describe('reboot with running guests (real libvirtd, real QEMU guests)', () => {
  it('refuses without a guests policy, in check mode too, and touches nothing', async () => {
    const ctx = await context({ rollgate_libvirt_uri: lv.uri });
    const before = bootId(ctx);
    await expect(reboot.check({ ...ctx, checkMode: true }, { boot_timeout: 20 })).rejects.toThrow(
      /hv01 has 2 running guest\(s\) a reboot would kill: web, db; nothing was changed\. Say how to drain them: give the reboot task `guests: shutdown`/,
    );
    await expect(reboot.check(ctx, { boot_timeout: 20, guests: { with_devices: 'shutdown' } })).rejects.toThrow(
      /would kill: web, db/,
    );
    expect(bootId(ctx)).toBe(before);
    expect([state('web'), state('db')]).toEqual(['running', 'running']);
  });

  it('shuts the guests down (destroying them at the timeout), reboots, and starts them again', async () => {
    const events: RollgateEvent[] = [];
    const ctx = await context({ rollgate_libvirt_uri: lv.uri }, events);
    const before = bootId(ctx);
    const pids = [lv.qemuPid('web'), lv.qemuPid('db')];
    const out = await reboot.check(ctx, {
      boot_timeout: 30,
      guests: { movable: 'shutdown', shutdown_timeout: 2, on_timeout: 'destroy' },
    });
    if (out.status !== 'change') throw new Error('expected a change');
    expect(out.preview.summary).toMatch(/guests web, db shut down before and started again after/);
    expect(out.preview.commands[0]).toBe(`virsh -q -c '${lv.uri}' shutdown -- web`);
    expect(out.preview.commands.at(-1)).toBe(`virsh -q -c '${lv.uri}' start -- db`);
    const result = await reboot.apply(ctx, { boot_timeout: 30 }, out.change);
    expect(result.message).toMatch(/guests shut down and started again: web, db/);
    expect(result.data).toMatchObject({ guests_stopped: ['web', 'db'], guests_started: ['web', 'db'] });
    expect(bootId(ctx)).not.toBe(before);
    expect([state('web'), state('db')]).toEqual(['running', 'running']);
    // Really stopped and started: new QEMU processes.
    expect([lv.qemuPid('web'), lv.qemuPid('db')]).not.toEqual(pids);
    const said = events.flatMap((e) => (e.type === 'host.guests' ? [e.message] : []));
    expect(said).toEqual([
      'shutting down guest web (up to 2 s)',
      'guest web did not shut down within 2 s: destroying it (on_timeout: destroy)',
      'shutting down guest db (up to 2 s)',
      'guest db did not shut down within 2 s: destroying it (on_timeout: destroy)',
      'starting guest web',
      'starting guest db',
    ]);
  }, 120_000);

  it('a guest that does not shut down with on_timeout: fail leaves the host unrebooted and every guest running', async () => {
    const ctx = await context({ rollgate_libvirt_uri: lv.uri });
    const before = bootId(ctx);
    const out = await reboot.check(ctx, { boot_timeout: 30, guests: { movable: 'shutdown', shutdown_timeout: 1 } });
    if (out.status !== 'change') throw new Error('expected a change');
    await expect(reboot.apply(ctx, { boot_timeout: 30 }, out.change)).rejects.toThrow(
      /not rebooted: guest web did not shut down within 1 s \(still running\); on_timeout: fail/,
    );
    expect(bootId(ctx)).toBe(before);
    expect([state('web'), state('db')]).toEqual(['running', 'running']);
  }, 60_000);

  it('a drain that fails half-way starts the guests it already stopped again', async () => {
    const conn = await connect(fleet, 0);
    open.push(conn);
    const pid = lv.qemuPid('web');
    await expect(
      drainGuests(
        conn,
        lv.uri,
        ['web', 'gone'],
        { ...drainPolicyFrom({ movable: 'shutdown', on_timeout: 'destroy', shutdown_timeout: 1 }) },
        { pollMs: 200 },
      ),
    ).rejects.toThrow(/virsh domstate gone: .*; started again: web/);
    expect(state('web')).toBe('running');
    expect(lv.qemuPid('web')).not.toBe(pid);
  }, 60_000);

  it('refuses a guest holding a host device when only movable ones may be shut down (libvirt test driver)', async () => {
    const ctx = await context({
      rollgate_libvirt_uri: `test://${join(process.cwd(), 'test/fixtures/formats/libvirt/node.xml')}`,
    });
    await expect(reboot.check(ctx, { guests: { movable: 'shutdown' } })).rejects.toThrow(
      /hv01 has 1 running guest\(s\) a reboot would kill: pt \(holds 0000:01:00\.0\)/,
    );
  });

  it('reboots a host without libvirt as before', async () => {
    const ctx = await context({ rollgate_libvirt_uri: 'qemu:///session?socket=/nonexistent/libvirt-sock' });
    const out = await reboot.check(ctx, { boot_timeout: 20 });
    expect(out.status).toBe('change');
  });
});
