/**
 * A lab VM's process work against the real qemu-img, ssh-keygen and QEMU: the overlay on its base and the VM's
 * host key, QEMU daemonizing (started with `-incoming defer`, so the guest never runs and the CPU stays idle),
 * its stop, and QEMU's own complaint in the error when it refuses to start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/lab/sshd-host.js';
import { prepareVm, startVm, stopVm, vmPid, vmRecord } from '../../src/lab/vm.js';

let dir: string;
let base: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rg-labvm-'));
  base = join(dir, 'base.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '64M']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lab VM processes', () => {
  it('prepares the overlay and host key, starts QEMU daemonized and stops it', async () => {
    const rec = vmRecord(join(dir, 'vms'), 'vmt1', 0, 'intel', await freePort());
    const pub = await prepareVm(rec, base);
    expect(pub).toMatch(/^ssh-ed25519 [A-Za-z0-9+/=]+$/);
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', rec.disk], { encoding: 'utf8' })) as {
      'backing-filename'?: string;
    };
    expect(info['backing-filename']).toBe(base);
    try {
      const pid = await startVm(rec, { accel: 'tcg', memoryMb: 128, incoming: 'defer' });
      expect(vmPid(rec)).toBe(pid);
    } finally {
      await stopVm(rec);
    }
    expect(vmPid(rec)).toBeUndefined();
  }, 60_000);

  it("says QEMU did not start, with QEMU's reason", async () => {
    const rec = vmRecord(join(dir, 'vms'), 'vmt2', 1, 'intel', await freePort());
    await prepareVm(rec, base);
    rmSync(rec.disk);
    expect(existsSync(rec.disk)).toBe(false);
    await expect(startVm(rec, { accel: 'tcg', memoryMb: 128 })).rejects.toThrow(
      /^vmt2: QEMU did not start: qemu-system-x86_64: .*overlay\.qcow2.*No such file or directory/s,
    );
  }, 60_000);
});
