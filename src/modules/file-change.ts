/**
 * The change most modules make: rewrite (or delete) a few files, then run the commands that rebuild what is
 * derived from them. `planFileChange` turns wanted contents into a check outcome (exact preview + undo record);
 * `applyFileChange` carries it out. Nothing here decides what the files should say.
 */
import type { Connection } from '../connection/connection.js';
import { raw } from '../connection/shell-quote.js';
import { runChecked } from './host-root.js';
import {
  attrsOf,
  missingDirs,
  removeRemoteFile,
  toBackup,
  writeRemoteFile,
  type FileAttrs,
  type RemoteFile,
} from './host-files.js';
import { ModuleFailure, type CheckOutcome, type UndoRecord } from './module.js';

/** One file to write (content) or delete (content null). */
export interface FileWrite {
  path: string;
  content: string | null;
  attrs: FileAttrs;
}

/** Serializable: what apply does, in order. */
export interface FileChange {
  createdDirs: string[];
  writes: FileWrite[];
  /** Shell commands run after the writes, in order (already quoted). */
  commands: string[];
}

/** The text of a file a module is going to edit; refuses bytes that would not survive a UTF-8 round trip. */
export function editableText(file: RemoteFile): string | null {
  if (!file.exists) return null;
  const text = file.content.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(file.content))
    throw new ModuleFailure(`${file.path} is not valid UTF-8; refusing to edit it`);
  return text;
}

export interface PlannedFile {
  file: RemoteFile;
  /** Wanted content; null deletes the file. */
  after: string | null;
}

export interface FilePlanInput {
  summary: string;
  files: PlannedFile[];
  /** Commands to run after writing (update-grub ...). Only run when some file changes, unless `always`. */
  commands: string[];
  /** Re-derivations: commands that rebuild derived state after undo restores the files. Default: `commands`. */
  rebuild?: string[];
  /** Reversals: commands that take back what `commands` did and assume they ran (see UndoRecord.reverse). */
  reverse?: string[];
  /** Directories the writes need that do not exist yet (from missingDirs), parents first. */
  createdDirs?: string[];
  /** Files the commands rewrite (boot entries, grubenv): backed up for undo, not written by rollgate. */
  alsoBackup?: RemoteFile[];
  /** A change is needed even when no file differs (the commands themselves change the host). */
  changeWithoutFiles?: boolean;
  extra?: Record<string, unknown>;
  rebootRequired?: boolean;
}

/** Compare wanted with current contents: no_change when every file already says it, else the exact change. */
export function planFileChange(input: FilePlanInput): CheckOutcome<FileChange> {
  const changed = input.files.filter(({ file, after }) => editableText(file) !== after);
  if (changed.length === 0 && !input.changeWithoutFiles)
    return { status: 'no_change', reason: `${input.summary}: already so` };
  const writes: FileWrite[] = changed.map(({ file, after }) => ({
    path: file.path,
    content: after,
    attrs: attrsOf(file),
  }));
  const undo: UndoRecord = {
    files: [
      ...changed.map(({ file }) => toBackup(file)),
      ...(input.alsoBackup ?? []).filter((f) => !changed.some((c) => c.file.path === f.path)).map(toBackup),
    ],
    rebuild: input.rebuild ?? input.commands,
    ...(input.reverse?.length ? { reverse: input.reverse } : {}),
    ...(input.createdDirs?.length ? { createdDirs: input.createdDirs } : {}),
    ...(input.extra ? { extra: input.extra } : {}),
  };
  return {
    status: 'change',
    change: { createdDirs: input.createdDirs ?? [], writes, commands: input.commands },
    preview: {
      summary: input.summary,
      files: changed.map(({ file, after }) => ({ path: file.path, before: editableText(file), after })),
      commands: input.commands,
    },
    undo,
    ...(input.rebootRequired ? { rebootRequired: true } : {}),
  };
}

/** Directories that writing the planned new files would create, parents first (read-only). */
export async function dirsToCreate(conn: Connection, files: readonly PlannedFile[]): Promise<string[]> {
  const parents = [
    ...new Set(
      files.filter((p) => !p.file.exists && p.after !== null).map((p) => p.file.path.replace(/\/[^/]+$/, '') || '/'),
    ),
  ];
  const all: string[] = [];
  for (const dir of parents) for (const d of await missingDirs(conn, dir)) if (!all.includes(d)) all.push(d);
  return all;
}

/** Write every file, then run every command; the first failure throws ModuleFailure (undo is journaled). */
export async function applyFileChange(
  conn: Connection,
  change: FileChange,
  commandTimeoutMs = 30 * 60_000,
): Promise<void> {
  for (const w of change.writes) {
    if (w.content === null) await removeRemoteFile(conn, w.path);
    else await writeRemoteFile(conn, w.path, w.content, w.attrs);
  }
  for (const command of change.commands) {
    await runChecked(conn, raw(command), command.split(' ').slice(0, 3).join(' '), commandTimeoutMs);
  }
}
