import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import type { Connection } from '../../src/connection/connection.js';
import type { RollgateEvent } from '../../src/events/events.js';
import type { ModuleContext } from '../../src/modules/module.js';
import { reboot } from '../../src/modules/actions/reboot.js';
import { connect, removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { buildRoot, put } from './support/fake-root.js';

let fleet: SshdFleet;
const roots: string[] = [];
const open: Connection[] = [];

function root(): string {
  const dir = tempRoot('reboot');
  roots.push(dir);
  buildRoot(dir, 'debian');
  return dir;
}

/** A context whose reconnect() closes the connection and logs in again, as the runner's does. */
async function reconnectingContext(
  r: string,
  events: RollgateEvent[],
  extra: Record<string, unknown> = {},
): Promise<ModuleContext & { logins: number }> {
  const ctx = {
    conn: (await connect(fleet, 0)) as Connection,
    host: 'h01',
    vars: { rollgate_root: r, rollgate_reboot_poll_seconds: 0.3, ...extra },
    checkMode: false,
    logins: 1,
    emit: (e: RollgateEvent) => events.push(e),
    async reconnect() {
      await ctx.conn.close();
      ctx.conn = await connect(fleet, 0);
      ctx.logins++;
      open.push(ctx.conn);
      return ctx.conn;
    },
  };
  open.push(ctx.conn);
  return ctx;
}

beforeAll(async () => {
  fleet = await startFleet(1);
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await fleet?.stop();
  roots.forEach(removeRoot);
});

describe('reboot on a real sshd host', () => {
  it('waits for a new boot_id seen through a new SSH login, and logs the reason literally', async () => {
    const r = root();
    const events: RollgateEvent[] = [];
    const ctx = await reconnectingContext(r, events);
    const before = readFileSync(join(r, 'proc/sys/kernel/random/boot_id'), 'utf8').trim();
    const out = await reboot.check(ctx, { boot_timeout: 20, reason: 'kernel args' });
    if (out.status !== 'change') throw new Error('expected change');
    expect(out.preview.commands[1]).toBe(
      `nohup sh -c 'sleep 1; ROLLGATE_ROOT=${r} ${r}/usr/bin/systemctl reboot' </dev/null >/dev/null 2>&1 &`,
    );
    const result = await reboot.apply(ctx, { boot_timeout: 20 }, out.change);
    expect(result.data).toMatchObject({ previous_boot_id: before });
    expect(result.data!.boot_id).not.toBe(before);
    expect(result.data!.boot_id).toBe(readFileSync(join(r, 'proc/sys/kernel/random/boot_id'), 'utf8').trim());
    expect(ctx.logins).toBeGreaterThan(1);
    expect(events.map((e) => e.type === 'host.reboot' && e.phase)).toContain('back');
    expect(readFileSync(join(r, 'var/log/rollgate-logger.log'), 'utf8')).toBe(
      '-t\nrollgate\n--\nreboot: kernel args\n',
    );
  });

  it('fails after boot_timeout when the host never shows a new boot', async () => {
    const r = root();
    put(r, 'etc/rollgate-test/reboot-hangs', '');
    const events: RollgateEvent[] = [];
    const ctx = await reconnectingContext(r, events);
    const out = await reboot.check(ctx, { boot_timeout: 2 });
    if (out.status !== 'change') throw new Error('expected change');
    const started = Date.now();
    await expect(reboot.apply(ctx, {}, out.change)).rejects.toThrow(
      /did not come back within 2 s \(last: logged in, but the boot_id is unchanged/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(events.at(-1)).toMatchObject({ type: 'host.reboot', phase: 'timeout' });
  });

  it('refuses to start when the runner cannot reconnect', async () => {
    const r = root();
    const ctx = await reconnectingContext(r, []);
    const out = await reboot.check(ctx, {});
    if (out.status !== 'change') throw new Error('expected change');
    await expect(reboot.apply({ ...ctx, reconnect: undefined }, {}, out.change)).rejects.toThrow(/cannot reconnect/);
    expect(readFileSync(join(r, 'proc/sys/kernel/random/boot_id'), 'utf8')).toBe(
      'a1b2c3d4-0000-4000-8000-000000000001\n',
    );
  });
});
