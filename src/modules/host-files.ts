/**
 * Files on a host, read and written through `Connection.exec` only: read with mode and owner (or "absent"),
 * write atomically and verified (remote-write.ts), restore a backup byte for byte. Paths here are already rooted
 * (see host-root.ts).
 */
import type { Connection } from '../connection/connection.js';
import { sh, raw } from '../connection/shell-quote.js';
import { ModuleFailure, type FileBackup } from './module.js';
import { DEFAULT_ATTRS, writeRemoteFile, type FileAttrs } from './remote-write.js';

export {
  copyRemoteFile,
  copyScript,
  DEFAULT_ATTRS,
  writeRemoteFile,
  type FileAttrs,
  type WriteOutcome,
} from './remote-write.js';

/** A regular file with its bytes, mode and owner, or the fact that nothing is there. */
export type RemoteFile =
  | { path: string; exists: false }
  | { path: string; exists: true; content: Buffer; mode: number; uid: number; gid: number };

/** Read several files in one round trip. Symlinks and non-regular files are refused (rollgate edits files only). */
export async function readRemoteFiles(conn: Connection, paths: readonly string[]): Promise<RemoteFile[]> {
  if (paths.length === 0) return [];
  const script = sh`for p in ${[...paths]}; do
if [ -L "$p" ]; then echo L
elif [ -f "$p" ]; then if s=$(stat -c '%a %u %g' -- "$p") && b=$(base64 -w0 -- "$p"); then printf 'F %s %s\\n' "$s" "$b"; else echo E; fi
elif [ -e "$p" ]; then echo X
else echo A; fi
done`;
  const r = await conn.exec(script);
  const lines = r.stdout.split('\n');
  return paths.map((path, i) => parseLine(path, lines[i] ?? ''));
}

function parseLine(path: string, line: string): RemoteFile {
  const [tag, mode, uid, gid, b64] = line.split(' ');
  switch (tag) {
    case 'A':
      return { path, exists: false };
    case 'F':
      return {
        path,
        exists: true,
        content: Buffer.from(b64 ?? '', 'base64'),
        mode: parseInt(mode ?? '', 8),
        uid: Number(uid),
        gid: Number(gid),
      };
    case 'L':
      throw new ModuleFailure(
        `${path} is a symbolic link; rollgate only edits regular files (point the play at the link's target)`,
      );
    case 'X':
      throw new ModuleFailure(`${path} exists but is not a regular file`);
    default:
      throw new ModuleFailure(`cannot read ${path} (permission denied? use become)`, false);
  }
}

export async function readRemoteFile(conn: Connection, path: string): Promise<RemoteFile> {
  const [file] = await readRemoteFiles(conn, [path]);
  return file!;
}

/** Regular files in a directory matching a shell glob (e.g. '*.cfg'), in the shell's sorted order. */
export async function listRemoteDir(conn: Connection, dir: string, glob: string): Promise<string[]> {
  if (!/^[A-Za-z0-9_.*?-]+$/.test(glob)) throw new Error(`unsupported glob ${glob}`);
  const r = await conn.exec(sh`for f in ${dir}/${raw(glob)}; do [ -f "$f" ] && printf '%s\\n' "$f"; done; true`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** Directories that do not exist yet on the way to `dir`, parents first (read-only). */
export async function missingDirs(conn: Connection, dir: string): Promise<string[]> {
  const r = await conn.exec(
    sh`p=${dir}; n=0; while [ ! -d "$p" ] && [ "$n" -lt 64 ]; do printf '%s\\n' "$p"; p=$(dirname -- "$p"); n=$((n+1)); done`,
  );
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .reverse();
}

/** Delete a file (fsyncing its directory); says whether there was one to delete. */
export async function removeRemoteFile(conn: Connection, path: string): Promise<boolean> {
  const r = await conn.exec(
    sh`p=${path}; if [ -e "$p" ] || [ -L "$p" ]; then rm -f -- "$p" || exit 1; { sync -- "$(dirname -- "$p")" 2>/dev/null || sync; }; echo removed; fi`,
  );
  if (r.exitCode !== 0) throw new ModuleFailure(`cannot remove ${path}: ${r.stderr.trim()}`);
  return r.stdout.includes('removed');
}

/** What undo needs to put a file back exactly as it was. */
export function toBackup(file: RemoteFile): FileBackup {
  if (!file.exists) return { path: file.path, contentBase64: null };
  return {
    path: file.path,
    contentBase64: file.content.toString('base64'),
    mode: file.mode,
    uid: file.uid,
    gid: file.gid,
  };
}

/** What a restore did: wrote the old bytes back, deleted a file that did not exist before, or found it as recorded. */
export type RestoreOutcome = 'restored' | 'removed' | 'unchanged';

/** Put a file back byte for byte with its mode and owner (verified, see remote-write.ts), or delete it when it did not exist. */
export async function restoreBackup(conn: Connection, backup: FileBackup): Promise<RestoreOutcome> {
  if (backup.contentBase64 === null) return (await removeRemoteFile(conn, backup.path)) ? 'removed' : 'unchanged';
  const done = await writeRemoteFile(conn, backup.path, Buffer.from(backup.contentBase64, 'base64'), {
    mode: backup.mode ?? DEFAULT_ATTRS.mode,
    uid: backup.uid ?? DEFAULT_ATTRS.uid,
    gid: backup.gid ?? DEFAULT_ATTRS.gid,
  });
  return done === 'written' ? 'restored' : 'unchanged';
}

/** Attributes a rewritten file keeps: its own when it exists, defaults for a new one. */
export function attrsOf(file: RemoteFile): FileAttrs {
  return file.exists ? { mode: file.mode, uid: file.uid, gid: file.gid } : DEFAULT_ATTRS;
}

export function textOf(file: RemoteFile): string | null {
  return file.exists ? file.content.toString('utf8') : null;
}
