/**
 * Saving a VM's state with a real QEMU (paused, no disk, 64 MiB: seconds): an Intel-IOMMU machine migrates to a
 * file and a second QEMU loads it with -incoming; an AMD-IOMMU machine is refused by QEMU as non-migratable, which
 * saveVmState reports as UnsaveableVmError while the machine runs on untouched.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { withQmp } from '../../src/power/qmp.js';
import { findSavedState, incomingFrom, saveVmState, UnsaveableVmError } from '../../src/lab/saved-state.js';
import type { VmRecord } from '../../src/lab/state.js';

const procs: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function qemu(dir: string, iommu: 'intel-iommu' | 'amd-iommu', extra: string[] = []): Promise<string> {
  const socket = join(dir, `qmp-${procs.length}.sock`);
  const p = spawn(
    'qemu-system-x86_64',
    [
      ...(extra.includes('-incoming') ? [] : ['-S']),
      '-machine',
      'q35,kernel-irqchip=split',
      '-accel',
      'tcg',
      '-m',
      '64',
      '-nodefaults',
      '-display',
      'none',
      '-device',
      iommu === 'intel-iommu' ? 'intel-iommu,intremap=on,caching-mode=on' : 'amd-iommu,intremap=on',
      '-qmp',
      `unix:${socket},server=on,wait=off`,
      ...extra,
    ],
    { stdio: 'ignore' },
  );
  procs.push(p);
  await waitFor(() => existsSync(socket), 10_000);
  // The socket file appears at bind(), a moment before QEMU listens on it: connect until it answers.
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(socket)
        .once('connect', () => {
          c.destroy();
          resolve(true);
        })
        .once('error', () => resolve(false));
    });
    if (ok) break;
    if (i >= 200) throw new Error(`QMP ${socket} never accepted a connection`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return socket;
}

function record(dir: string, qmpSocket: string): VmRecord {
  const vm = join(dir, 'vm');
  mkdirSync(vm, { recursive: true });
  for (const f of ['overlay.qcow2', 'key', 'key.pub']) writeFileSync(join(vm, f), f);
  return {
    name: 'lab1',
    index: 0,
    kind: 'k',
    iommu: 'intel',
    sshPort: 1,
    mac: '52:54:00:72:67:01',
    dir: vm,
    disk: join(vm, 'overlay.qcow2'),
    qmpSocket,
    consoleLog: join(vm, 'console.log'),
    pidFile: join(vm, 'pid'),
    hostKey: join(vm, 'key'),
    hostPublicKey: '',
  };
}

describe('saved booted states with a real QEMU', () => {
  it('migrates an Intel-IOMMU machine to a file that another QEMU loads with -incoming', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-save-'));
    dirs.push(dir);
    const rec = record(dir, await qemu(dir, 'intel-iommu'));
    const stateDir = join(dir, 'booted', 'lab1');
    const saved = await saveVmState(rec, stateDir, { bootMs: 1 }, async () => {
      await withQmp(rec.qmpSocket, (q) => q.execute('quit')).catch(() => undefined);
    });
    expect(findSavedState(stateDir)).toEqual(saved);
    const loaded = await qemu(dir, 'intel-iommu', ['-incoming', incomingFrom(saved)]);
    let migration: string | undefined;
    for (let i = 0; i < 100 && migration !== 'completed' && migration !== 'failed'; i++) {
      migration = (await withQmp(loaded, (q) => q.execute('query-migrate'))).status;
      if (migration !== 'completed') await new Promise((r) => setTimeout(r, 100));
    }
    // The incoming side read the whole file and accepted it (a truncated or foreign state fails here).
    expect(migration).toBe('completed');
  });

  it('reports an AMD-IOMMU machine as unsaveable and leaves it as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-save-'));
    dirs.push(dir);
    const rec = record(dir, await qemu(dir, 'amd-iommu'));
    const stateDir = join(dir, 'booted', 'lab1');
    const err = await saveVmState(rec, stateDir, { bootMs: 1 }, async () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsaveableVmError);
    expect((err as Error).message).toMatch(/amd-iommu/);
    expect(existsSync(stateDir)).toBe(false);
    expect((await withQmp(rec.qmpSocket, (q) => q.execute('query-status'))).status).toBe('prelaunch');
  });
});
