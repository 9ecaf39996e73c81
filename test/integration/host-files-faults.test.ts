import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SshConnection } from '../../src/connection/ssh.js';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import {
  copyRemoteFile,
  readRemoteFile,
  restoreBackup,
  toBackup,
  writeRemoteFile,
} from '../../src/modules/host-files.js';
import { ensureBuilt } from './support/cli.js';
import { HALF_CP, lossy, toolDir, withPath } from './support/host-faults.js';
import { connect, fleetTarget, removeRoot, startFleet, tempRoot } from './support/module-host.js';

let fleet: SshdFleet;
let conn: SshConnection;
let root: string;

beforeAll(async () => {
  ensureBuilt();
  fleet = await startFleet(1);
  conn = await connect(fleet, 0);
  root = tempRoot('write-faults');
});
afterAll(async () => {
  await conn?.close();
  await fleet?.stop();
  removeRoot(root);
});

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const tempFiles = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('.rollgate.'));

/** A file with known bytes in its own directory under the root; returns its path and sha256. */
function original(dir: string, bytes = 'GRUB_CMDLINE_LINUX="quiet"\n'): { path: string; sum: string } {
  mkdirSync(join(root, dir), { recursive: true });
  const path = join(root, dir, 'grub');
  writeFileSync(path, bytes, { mode: 0o644 });
  return { path, sum: sha(path) };
}

const toolsWithout = (name: string, missing: readonly string[], extra: Record<string, string> = {}) =>
  toolDir(join(root, name), missing, extra);

describe('remote writes survive faults: the original stays until verified new bytes replace it', () => {
  it('a controller killed mid-write leaves the original byte for byte, and no temp file', async () => {
    const { path, sum } = original('etc/killed');
    const dir = join(root, 'etc/killed');
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'support/write-child.mjs'), JSON.stringify(fleetTarget(fleet, 0)), path, '256'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Kill it once the temp file holds some of the bytes, well before all of them.
    let seen = 0;
    for (let i = 0; i < 1500 && seen < 4 * 1024 * 1024 && child.exitCode === null; i++) {
      const t = tempFiles(dir)[0];
      seen = t ? (statSync(join(dir, t), { throwIfNoEntry: false })?.size ?? 0) : 0;
      await sleep(10);
    }
    child.kill('SIGKILL');
    await exited;
    expect(out).not.toContain('done');
    expect(seen).toBeGreaterThan(0);
    // The host notices the cut on its own; give its script a moment to clean up.
    for (let i = 0; i < 100 && tempFiles(dir).length > 0; i++) await sleep(100);
    expect(tempFiles(dir)).toEqual([]);
    expect(sha(path)).toBe(sum);
  }, 60_000);

  it('a stream that brings no bytes at all fails the write and leaves the original', async () => {
    const { path, sum } = original('etc/empty');
    const fresh = join(root, 'etc/empty/new.conf');
    const cut = lossy(conn, () => Buffer.alloc(0));
    await expect(writeRemoteFile(cut, path, 'GRUB_CMDLINE_LINUX="intel_iommu=on"\n')).rejects.toThrow(
      `cannot write ${path}: received 0 of 36 bytes (the transfer was cut short); ${path} is left as it was`,
    );
    await expect(writeRemoteFile(cut, fresh, 'new\n')).rejects.toThrow(/received 0 of 4 bytes/);
    expect(sha(path)).toBe(sum);
    expect(existsSync(fresh)).toBe(false);
    expect(tempFiles(join(root, 'etc/empty'))).toEqual([]);
  });

  it('a stream cut short, or bytes changed on the way, fail the write and leave the original', async () => {
    const { path, sum } = original('etc/short');
    const half = lossy(conn, (b) => b.subarray(0, b.length >> 1));
    await expect(writeRemoteFile(half, path, Buffer.alloc(10_000, 0x62))).rejects.toThrow(
      /received 5000 of 10000 bytes \(the transfer was cut short\)/,
    );
    const flipped = lossy(conn, (b) => Buffer.from(b.toString('latin1').replace('on', 'no'), 'latin1'));
    await expect(writeRemoteFile(flipped, path, 'iommu=on\n')).rejects.toThrow(
      /sha256 of the received bytes is not the sha256 sent/,
    );
    expect(sha(path)).toBe(sum);
    expect(tempFiles(join(root, 'etc/short'))).toEqual([]);
  });

  it('a full filesystem fails the write with the disk error and leaves the original', async () => {
    const { path, sum } = original('etc/full', 'x'.repeat(100_000));
    const dir = join(root, 'etc/full');
    const saved = readFileSync(path);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', dir]);
    try {
      writeFileSync(path, saved, { mode: 0o644 });
      await expect(writeRemoteFile(conn, path, Buffer.alloc(2 * 1024 * 1024, 0x63))).rejects.toThrow(
        new RegExp(
          `cannot write ${path}: writing the new bytes failed \\(.*No space left on device.*\\); ${path} is left as it was`,
        ),
      );
      expect(sha(path)).toBe(sum);
      expect(tempFiles(dir)).toEqual([]);
    } finally {
      execFileSync('umount', [dir]);
    }
  });

  it('refuses to write on a host without sha256sum rather than skip the check', async () => {
    const { path, sum } = original('etc/nosha');
    const bare = withPath(conn, toolsWithout('bin-nosha', ['sha256sum']));
    await expect(writeRemoteFile(bare, path, 'new\n')).rejects.toThrow(/sha256sum is not installed on this host/);
    expect(sha(path)).toBe(sum);
    expect(tempFiles(join(root, 'etc/nosha'))).toEqual([]);
  });

  it('restoring a backup says whether it changed the file, and writes nothing when it did not', async () => {
    const { path } = original('etc/restore');
    const backup = toBackup(await readRemoteFile(conn, path));
    const ino = statSync(path).ino;
    expect(await restoreBackup(conn, backup)).toBe('unchanged');
    expect(statSync(path).ino).toBe(ino);
    await writeRemoteFile(conn, path, 'changed\n');
    expect(await restoreBackup(conn, backup)).toBe('restored');
    expect(readFileSync(path, 'utf8')).toBe('GRUB_CMDLINE_LINUX="quiet"\n');
    const gone = toBackup({ path: join(root, 'etc/restore/absent'), exists: false });
    expect(await restoreBackup(conn, gone)).toBe('unchanged');
    writeFileSync(join(root, 'etc/restore/absent'), 'made by the change\n');
    expect(await restoreBackup(conn, gone)).toBe('removed');
    expect(existsSync(join(root, 'etc/restore/absent'))).toBe(false);
  });

  it('a copy on the host that does not match its source is not installed', async () => {
    const { path: src } = original('boot', 'kernel image bytes\n'.repeat(1000));
    const dst = join(root, 'boot/copy');
    writeFileSync(dst, 'the copy from before\n');
    const before = sha(dst);
    const broken = withPath(conn, `${toolsWithout('bin-halfcp', [], { cp: HALF_CP })}:$PATH`);
    await expect(copyRemoteFile(broken, src, dst)).rejects.toThrow(
      `the copy of ${src} to ${dst} does not match its source (sha256); ${dst} is left as it was`,
    );
    expect(sha(dst)).toBe(before);
    expect(tempFiles(join(root, 'boot'))).toEqual([]);
    await copyRemoteFile(conn, src, dst);
    expect(sha(dst)).toBe(sha(src));
  });
});
