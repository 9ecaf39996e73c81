/**
 * The journal's files on the controller: created private (the database holds file backups and command output:
 * the directory 0700, the database, -wal and -shm 0600), refused with what to do when they cannot be used, and
 * flagged when they sit on a network filesystem (SQLite's locking is unreliable over NFS and SMB).
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { NewerSchemaError } from './migrations/index.js';

/** The journal cannot be opened or read: a clear message and what to do, never a stack (the CLI exits 2). */
export class JournalUnusableError extends Error {
  override readonly name = 'JournalUnusableError';
  constructor(
    readonly path: string,
    readonly problem: string,
    readonly hint: string,
  ) {
    super(`journal ${path}: ${problem}. ${hint}`);
  }
}

/** What to do about a journal that cannot be used: keep it for a look, start afresh or point elsewhere. */
export function moveAsideHint(path: string): string {
  return `move it aside (mv ${path} ${path}.broken) to start a new journal, or use --journal PATH (or ROLLGATE_JOURNAL) for another one`;
}

const FS_ERRORS = new Set([
  'EEXIST',
  'EACCES',
  'EPERM',
  'EISDIR',
  'ENOTDIR',
  'EROFS',
  'ENOENT',
  'ELOOP',
  'ENAMETOOLONG',
  'ENOSPC',
  'EDQUOT',
]);

/** A filesystem error that means "this path cannot hold a journal", as opposed to a bug. */
export function isPathError(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && FS_ERRORS.has(code);
}

/**
 * Create the journal's directory (0700) and its database file (0600) before SQLite opens it: SQLite gives the
 * -wal and -shm files the database's mode. A journal that already exists and is readable by others (written by
 * an older rollgate) is made private too.
 */
export function prepareJournalFiles(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      if (!existsSync(file)) continue;
      const st = statSync(file);
      if (st.isDirectory()) throw Object.assign(new Error(`${file} is a directory`), { code: 'EISDIR' });
      if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) chmodSync(file, st.mode & 0o700);
    }
  } catch (err) {
    if (!isPathError(err)) throw err;
    throw new JournalUnusableError(
      path,
      `cannot be created or opened (${err.code}: ${err.message})`,
      'use --journal PATH (or ROLLGATE_JOURNAL) for a place this user can write',
    );
  }
}

/** SQLite's codes for a file that is not a usable database (as opposed to a bug in a statement). */
const UNUSABLE = /^SQLITE_(NOTADB|CORRUPT|CANTOPEN|READONLY|IOERR|PERM|AUTH|FULL|FORMAT)/;

/** A failure to open a journal as the operator should read it; anything else is rethrown as it is (a bug). */
export function unusable(path: string, err: unknown): unknown {
  if (err instanceof JournalUnusableError) return err;
  if (err instanceof NewerSchemaError) {
    return new JournalUnusableError(
      path,
      `its schema version ${err.version} is newer than this rollgate understands (${err.latest}): a newer rollgate wrote it`,
      `upgrade rollgate, or ${moveAsideHint(path)}`,
    );
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNUSABLE.test(code)) {
    return new JournalUnusableError(
      path,
      `not a usable SQLite journal (${(err as Error).message}, ${code})`,
      moveAsideHint(path),
    );
  }
  return err;
}

/** statfs f_type magic numbers of network filesystems (linux/magic.h). */
const NETWORK_MAGIC: ReadonlyMap<number, string> = new Map([
  [0x6969, 'nfs'],
  [0x517b, 'smb'],
  [0xff534d42, 'cifs'],
  [0xfe534d42, 'smb2'],
]);

const NETWORK_TYPES = new Set(['nfs', 'nfs4', 'cifs', 'smb', 'smb2', 'smb3', 'smbfs']);

/** The network filesystem a statfs type number names, or null. */
export function networkFsOfMagic(type: number): string | null {
  return NETWORK_MAGIC.get(type >>> 0) ?? null;
}

/** The type of the filesystem /proc/mounts says holds `path` (longest mount point that is a prefix), or null. */
export function fsTypeFromMounts(mounts: string, path: string): string | null {
  let best: { point: string; type: string } | null = null;
  for (const line of mounts.split('\n')) {
    const [, rawPoint, type] = line.split(' ');
    if (!rawPoint || !type) continue;
    const point = rawPoint.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
    const inside = point === '/' || path === point || path.startsWith(`${point}/`);
    if (inside && (!best || point.length >= best.point.length)) best = { point, type };
  }
  return best?.type ?? null;
}

/**
 * The network filesystem the journal's directory is on (nfs, cifs ...), or null: statfs's type number first,
 * then /proc/mounts (which also names nfs4 and FUSE-mounted SMB); null when neither can tell.
 */
export function networkFsOf(
  path: string,
  probes: { statfsType?: (dir: string) => number; mounts?: () => string } = {},
): string | null {
  const dir = resolve(dirname(path));
  try {
    const byMagic = networkFsOfMagic((probes.statfsType ?? ((d: string) => statfsSync(d).type))(dir));
    if (byMagic) return byMagic;
  } catch {
    // statfs unavailable: /proc/mounts may still tell
  }
  try {
    const type = fsTypeFromMounts((probes.mounts ?? (() => readFileSync('/proc/mounts', 'utf8')))(), dir);
    return type && (NETWORK_TYPES.has(type) || /^fuse\.(smb|cifs|nfs)/.test(type)) ? type : null;
  } catch {
    return null;
  }
}
