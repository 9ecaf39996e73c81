import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import type { SshConnection } from '../../src/connection/ssh.js';
import {
  listRemoteDir,
  missingDirs,
  readRemoteFile,
  readRemoteFiles,
  restoreBackup,
  toBackup,
  writeRemoteFile,
} from '../../src/modules/host-files.js';
import { findTools, makeHostRoot } from '../../src/modules/host-root.js';
import { connect, hashTree, removeRoot, startFleet, tempRoot } from './support/module-host.js';

let fleet: SshdFleet;
let conn: SshConnection;
let root: string;

beforeAll(async () => {
  fleet = await startFleet(1);
  conn = await connect(fleet, 0);
  root = tempRoot('files');
});
afterAll(async () => {
  await conn?.close();
  await fleet?.stop();
  removeRoot(root);
});

describe('host file primitives over real ssh', () => {
  it('reads absent files and writes every byte value with mode and owner, atomically', async () => {
    const path = join(root, "etc/we ird/it's $(x).conf");
    expect(await readRemoteFile(conn, path)).toEqual({ path, exists: false });
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    await writeRemoteFile(conn, path, bytes, { mode: 0o640, uid: 1, gid: 2 });
    expect(readFileSync(path).equals(bytes)).toBe(true);
    const st = statSync(path);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o640, 1, 2]);
    const back = await readRemoteFile(conn, path);
    expect(back.exists && back.content.equals(bytes) && back.mode === 0o640 && back.uid === 1 && back.gid === 2).toBe(
      true,
    );
    // No temp file left behind.
    expect(await listRemoteDir(conn, join(root, 'etc/we ird'), '*')).toEqual([path]);
  });

  it('restores a backup byte for byte, and deletes a file that did not exist', async () => {
    mkdirSync(join(root, 'etc/default'), { recursive: true });
    const grub = join(root, 'etc/default/grub');
    writeFileSync(grub, 'GRUB_CMDLINE_LINUX=""\n\n# trailing comment without newline', { mode: 0o600 });
    const fresh = join(root, 'etc/default/new.cfg');
    const before = hashTree(root);
    const files = await readRemoteFiles(conn, [grub, fresh]);
    await writeRemoteFile(conn, grub, 'changed\n');
    await writeRemoteFile(conn, fresh, 'new\n');
    expect(hashTree(root)).not.toBe(before);
    for (const f of files) await restoreBackup(conn, toBackup(f));
    expect(hashTree(root)).toBe(before);
    expect(existsSync(fresh)).toBe(false);
  });

  it('refuses to edit through a symbolic link', async () => {
    symlinkSync('/etc/hostname', join(root, 'link'));
    await expect(readRemoteFile(conn, join(root, 'link'))).rejects.toThrow(/symbolic link/);
  });

  it('lists missing directories parents first without creating them', async () => {
    const dirs = await missingDirs(conn, join(root, 'a/b/c'));
    expect(dirs).toEqual([join(root, 'a'), join(root, 'a/b'), join(root, 'a/b/c')]);
    expect(existsSync(join(root, 'a'))).toBe(false);
  });

  it('finds tools only inside a non-/ root, never on the machine itself', async () => {
    const hr = makeHostRoot(root);
    expect(await findTools(conn, hr, ['update-grub', 'sh'])).toEqual({});
    mkdirSync(join(root, 'usr/sbin'), { recursive: true });
    writeFileSync(join(root, 'usr/sbin/update-grub'), '#!/bin/sh\n', { mode: 0o755 });
    expect(await findTools(conn, hr, ['update-grub', 'sh'])).toEqual({
      'update-grub': join(root, 'usr/sbin/update-grub'),
    });
    expect((await findTools(conn, makeHostRoot('/'), ['sh']))['sh']).toMatch(/^\/.*\/sh$/);
  });
});
