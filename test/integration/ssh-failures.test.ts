import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SshConnection } from '../../src/connection/ssh.js';
import { sh } from '../../src/connection/shell-quote.js';
import { runOnFleet } from '../../src/executor/fleet.js';
import { EventBus, type RollgateEvent } from '../../src/events/events.js';
import {
  dropSessions,
  FLEET_PLAIN_USER,
  removeFleetDir,
  startSshdFleet,
  type SshdFleet,
} from '../../src/lab/sshd-fleet.js';
import { freePort } from '../../src/lab/sshd-host.js';
import { hostTarget, tempDir } from './support/ssh-fleet.js';

let fleet: SshdFleet;
let dir: string;
let silent: Server;
let silentPort: number;
const silentSockets: Socket[] = [];

beforeAll(async () => {
  dir = tempDir('failures');
  fleet = await startSshdFleet({ count: 4, dir });
  // Accepts TCP, never sends an SSH banner.
  silent = createServer((s) => silentSockets.push(s.on('error', () => undefined)));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  silentSockets.forEach((s) => s.destroy());
  silent?.close();
  await fleet?.stop();
  removeFleetDir(dir);
});

/** Pids of live processes whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const target = (i: number, o: Parameters<typeof hostTarget>[2] = {}) => hostTarget(fleet, fleet.hosts[i]!, o);

describe('connection failures are distinct outcomes', () => {
  it('a closed port is unreachable, at once', async () => {
    const port = await freePort();
    const started = Date.now();
    await expect(SshConnection.open(target(0, { port }))).rejects.toMatchObject({
      kind: 'unreachable',
      retryable: true,
      message: expect.stringMatching(/ECONNREFUSED/),
    });
    expect(Date.now() - started).toBeLessThan(10_000); // not the 15 s handshake budget
  });

  it('a host that accepts TCP but never sends a banner times out after the connect timeout', async () => {
    const started = Date.now();
    await expect(SshConnection.open(target(0, { port: silentPort, connectTimeoutMs: 800 }))).rejects.toMatchObject({
      kind: 'timeout',
      message: expect.stringMatching(/no SSH handshake .* within 800 ms/),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(750);
  });

  it('a host that closes the connection before the banner is dropped', async () => {
    const closer = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => closer.listen(0, '127.0.0.1', resolve));
    try {
      const port = (closer.address() as { port: number }).port;
      await expect(SshConnection.open(target(0, { port }))).rejects.toMatchObject({ kind: 'dropped' });
    } finally {
      closer.close();
    }
  });

  it('a command that hangs times out on its host while the other hosts finish', async () => {
    const events: RollgateEvent[] = [];
    const bus = new EventBus();
    bus.on((e) => events.push(e));
    const hangs = fleet.hosts[1]!.name;
    const marker = `rg-hang-${process.pid}-${Date.now()}`;
    const outcomes = await runOnFleet(
      [target(0), target(1, { become: true }), target(2)],
      (conn, t) => conn.exec(t.name === hangs ? `sleep 30.5; echo never ${marker}` : 'echo done', { timeoutMs: 1500 }),
      { bus },
    );
    expect(outcomes.map((o) => [o.host, o.status, o.kind])).toEqual([
      [fleet.hosts[0]!.name, 'ok', undefined],
      [hangs, 'failed', 'timeout'],
      [fleet.hosts[2]!.name, 'ok', undefined],
    ]);
    expect(outcomes[0]!.value?.stdout).toBe('done\n');
    expect(outcomes[1]!.ms).toBeLessThan(10_000);
    const finished = events.filter((e) => e.type === 'host.finished').map((e) => (e as { host: string }).host);
    expect(finished.indexOf(hangs)).toBe(2); // the others did not wait for it
    expect(events.at(-1)).toMatchObject({ type: 'fleet.finished', ok: 2, failed: 1, unreachable: 0 });
    // The timed-out command (run through sudo) does not live on on the host.
    const left = () => [...processesWith(marker), ...processesWith('sleep\u000030.5')];
    for (let i = 0; i < 50 && left().length > 0; i++) await sleep(100);
    expect(left()).toEqual([]);
  });

  it('a connection killed mid-command is dropped, not a command failure', async () => {
    const conn = await SshConnection.open(target(3));
    try {
      const running = conn.exec('sleep 20; echo never');
      running.catch(() => undefined);
      await sleep(500);
      expect(dropSessions(fleet.hosts[3]!)).toBeGreaterThan(0);
      await expect(running).rejects.toMatchObject({ kind: 'dropped', retryable: true });
      await expect(conn.exec('true')).rejects.toMatchObject({ kind: 'dropped' });
    } finally {
      await conn.close();
    }
  });

  it('becomes root through sudo -n for a sudoer, and fails distinctly when sudo wants a password', async () => {
    const outcomes = await runOnFleet(
      [target(0, { become: true }), target(2, { become: true, user: FLEET_PLAIN_USER })],
      async (conn) => conn.exec(sh`id -u; printf %s ${"it's quoted"}`),
    );
    expect(outcomes[0]).toMatchObject({ status: 'ok', value: { stdout: "0\nit's quoted", exitCode: 0 } });
    expect(outcomes[1]).toMatchObject({
      status: 'failed',
      kind: 'become',
      retryable: false,
      message: expect.stringMatching(/sudo -n refused to run the command as root for user rgplain .*NOPASSWD/),
    });
  });

  it('a failing command under become stays an ordinary exit status when sudo works', async () => {
    const conn = await SshConnection.open(target(0, { become: true }));
    try {
      expect(await conn.exec('id -u >&2; exit 3')).toMatchObject({ exitCode: 3, stderr: '0\n' });
    } finally {
      await conn.close();
    }
  });
});
