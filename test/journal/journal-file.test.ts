import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { JournalBusyError, retryBusy } from '../../src/journal/journal-busy.js';
import {
  fsTypeFromMounts,
  JournalUnusableError,
  networkFsOf,
  networkFsOfMagic,
} from '../../src/journal/journal-file.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-jfile-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('journal files', () => {
  it('creates the directory 0700 and the database, -wal and -shm 0600 even under umask 000', () => {
    const path = join(tempDir(), 'state', 'rollgate', 'journal.db');
    const old = process.umask(0);
    try {
      const j = Journal.open(path);
      j.createRun({ kind: 'run' });
      expect([
        mode(join(path, '..')),
        mode(join(path, '..', '..')),
        mode(path),
        mode(`${path}-wal`),
        mode(`${path}-shm`),
      ]).toEqual(['700', '700', '600', '600', '600']);
      j.close();
    } finally {
      process.umask(old);
    }
  });

  it('makes a journal an older rollgate left world-readable private again', () => {
    const path = join(tempDir(), 'journal.db');
    Journal.open(path).close();
    chmodSync(path, 0o644);
    Journal.open(path).close();
    expect(mode(path)).toBe('600');
  });

  it('refuses a file that is not a journal, saying how to move it aside', () => {
    const path = join(tempDir(), 'journal.db');
    writeFileSync(
      path,
      'this is not a database, just some text that is long enough to fill a page header ...'.repeat(20),
    );
    expect(() => Journal.open(path)).toThrow(JournalUnusableError);
    expect(() => Journal.open(path)).toThrow(
      `journal ${path}: not a usable SQLite journal (file is not a database, SQLITE_NOTADB). move it aside (mv ${path} ${path}.broken) to start a new journal, or use --journal PATH (or ROLLGATE_JOURNAL) for another one`,
    );
  });

  it('refuses a journal a newer rollgate wrote, and a path that cannot hold one', () => {
    const dir = tempDir();
    const newer = join(dir, 'newer.db');
    const db = new Database(newer);
    db.pragma('user_version = 99');
    db.close();
    expect(() => Journal.open(newer)).toThrow(
      /its schema version 99 is newer than this rollgate understands \(\d+\): a newer rollgate wrote it\. upgrade rollgate, or move it aside/,
    );
    mkdirSync(join(dir, 'a-directory.db'));
    expect(() => Journal.open(join(dir, 'a-directory.db'))).toThrow(/cannot be created or opened \(EISDIR/);
    writeFileSync(join(dir, 'file'), '');
    expect(() => Journal.open(join(dir, 'file', 'journal.db'))).toThrow(
      /cannot be created or opened \((ENOTDIR|EEXIST)[^]*use --journal PATH/,
    );
  });

  it('waits for another process holding a write transaction longer than one busy slice', async () => {
    const path = join(tempDir(), 'journal.db');
    const j = Journal.open(path);
    let waits = 0;
    j.onBusyWait = () => waits++;
    // sqlite3's own sleep ends the transaction: this process blocks while it waits, as a controller does.
    const holder = spawn('sh', [
      '-c',
      `(echo 'BEGIN IMMEDIATE;'; echo "SELECT 'locked';"; sleep 3; echo 'COMMIT;') | sqlite3 ${path}`,
    ]);
    await new Promise<void>((resolve) =>
      holder.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve()),
    );
    const started = Date.now();
    const run = j.createRun({ kind: 'run' });
    expect(Date.now() - started).toBeGreaterThan(2000);
    expect(j.getRun(run.id)?.status).toBe('running');
    expect(waits).toBe(1);
    j.close();
    await new Promise((r) => holder.once('exit', r));
  });

  it('gives up after its bound with a message naming the journal and what to do', () => {
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    let attempts = 0;
    const started = Date.now();
    expect(() =>
      retryBusy(
        '/x/journal.db',
        () => {
          attempts++;
          throw busy;
        },
        undefined,
        300,
      ),
    ).toThrow(JournalBusyError);
    // Bounded by the 300 ms budget, not the default wait (a loaded machine may take some seconds).
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(attempts).toBeGreaterThan(1);
    expect(() =>
      retryBusy(
        '/x/journal.db',
        () => {
          throw busy;
        },
        undefined,
        0,
      ),
    ).toThrow('the journal /x/journal.db stayed locked by another process for 0 s');
    expect(() =>
      retryBusy('/x/journal.db', () => {
        throw new Error('other');
      }),
    ).toThrow('other');
  });
});

describe('network filesystems', () => {
  it('knows NFS and SMB by their statfs magic numbers', () => {
    expect([0x6969, 0x517b, 0xff534d42, 0xfe534d42, 0xef53, 0x01021994].map(networkFsOfMagic)).toEqual([
      'nfs',
      'smb',
      'cifs',
      'smb2',
      null,
      null,
    ]);
  });

  it('finds the filesystem of a path in /proc/mounts by its longest mount point', () => {
    const mounts =
      'sysfs /sys sysfs rw 0 0\n/dev/sda1 / ext4 rw 0 0\nnas:/export /srv/state nfs4 rw 0 0\n//nas/share /mnt/my\\040share cifs rw 0 0\n';
    expect(fsTypeFromMounts(mounts, '/srv/state/rollgate')).toBe('nfs4');
    expect(fsTypeFromMounts(mounts, '/srv/statefile')).toBe('ext4');
    expect(fsTypeFromMounts(mounts, '/mnt/my share/j')).toBe('cifs');
    expect(networkFsOf('/srv/state/rollgate/journal.db', { statfsType: () => 0xef53, mounts: () => mounts })).toBe(
      'nfs4',
    );
    expect(networkFsOf('/srv/x/journal.db', { statfsType: () => 0x6969, mounts: () => '' })).toBe('nfs');
    expect(networkFsOf('/var/lib/journal.db', { statfsType: () => 0xef53, mounts: () => mounts })).toBeNull();
  });

  it('does not take the local disk this test runs on for a network one', () => {
    expect(networkFsOf(join(tmpdir(), 'journal.db'))).toBeNull();
  });
});
