import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type QmpClient, QmpError, QmpPowerDriver, withQmp } from '../../src/power/qmp.js';

// A real QEMU, created paused (-S) with no disk: QMP answers at once and the CPU stays idle.
let dir: string;
let qemu: ChildProcess;
let socket: string;

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rg-qmp-'));
  socket = join(dir, 'qmp.sock');
  qemu = spawn(
    'qemu-system-x86_64',
    [
      '-S',
      '-machine',
      'q35',
      '-accel',
      'tcg',
      '-m',
      '64',
      '-nodefaults',
      '-display',
      'none',
      '-no-shutdown',
      '-netdev',
      'user,id=n0,restrict=on',
      '-device',
      'virtio-net-pci,netdev=n0,id=nic0',
      '-qmp',
      `unix:${socket},server=on,wait=off`,
    ],
    { stdio: 'ignore' },
  );
  await waitFor(() => existsSync(socket), 10_000);
});

afterAll(async () => {
  if (qemu && qemu.exitCode === null) qemu.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('QMP client and power driver against a real QEMU', () => {
  it('reads the run state and turns a paused machine on and off', async () => {
    const power = new QmpPowerDriver(socket);
    expect(await power.status()).toBe('off'); // created with -S: paused
    await power.powerOn();
    expect(await power.status()).toBe('on');
    await power.reset();
    expect(await power.status()).toBe('on');
    await power.powerOff();
    expect(await power.status()).toBe('off');
    expect(power.describe).toBe(`qmp:${socket}`);
  });

  it('takes a NIC link down and up, and reports QEMU errors as QmpError with their class', async () => {
    const power = new QmpPowerDriver(socket);
    await power.setLink('nic0', false);
    await power.setLink('nic0', true);
    const err = await power.setLink('no-such-nic', false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpError);
    expect((err as QmpError).qmpClass).toBe('DeviceNotFound');
  });

  it('answers several commands on one session in order', async () => {
    const states = await withQmp(socket, async (q: QmpClient) =>
      Promise.all([q.execute('query-status'), q.execute('query-status')]),
    );
    expect(states.map((s) => typeof s.running)).toEqual(['boolean', 'boolean']);
  });

  it('says unknown when nothing listens on the socket, and quit stops QEMU', async () => {
    expect(await new QmpPowerDriver(join(dir, 'missing.sock'), 1000).status()).toBe('unknown');
    await new QmpPowerDriver(socket).quit();
    await waitFor(() => qemu.exitCode !== null, 10_000);
    expect(qemu.exitCode).toBe(0);
  });
});
