/**
 * Undo: put files back byte for byte (content, mode, owner; delete the ones that did not exist), run the
 * commands that rebuild what was derived from the files, then remove the directories the changes created. For the
 * changes of a run, pass their records newest first: a file touched twice ends with its oldest bytes, and each
 * rebuild command runs once, after every file is back.
 */
import type { Connection } from '../connection/connection.js';
import { raw, sh } from '../connection/shell-quote.js';
import { restoreBackup } from './host-files.js';
import type { UndoRecord } from './module.js';

export interface UndoReport {
  /** Paths written back with their old bytes. */
  restored: string[];
  /** Paths deleted because they did not exist before. */
  removed: string[];
  /** Created directories removed again (only when empty). */
  removedDirs: string[];
  commands: Array<{ command: string; exitCode: number | null; stderrTail: string }>;
  /** Everything that did not work; empty means the undo is complete. */
  failures: string[];
}

export interface UndoOptions {
  /** Budget for each rebuild command, in milliseconds. Default 30 minutes (initramfs under TCG takes minutes). */
  commandTimeoutMs?: number;
}

/** Undo one change. */
export function applyUndo(conn: Connection, record: UndoRecord, options: UndoOptions = {}): Promise<UndoReport> {
  return applyUndos(conn, [record], options);
}

/** Undo several changes of one host, records given newest first. Keeps going past failures and reports them. */
export async function applyUndos(conn: Connection, records: readonly UndoRecord[], options: UndoOptions = {}): Promise<UndoReport> {
  const report: UndoReport = { restored: [], removed: [], removedDirs: [], commands: [], failures: [] };
  for (const record of records) {
    for (const file of record.files) {
      try {
        await restoreBackup(conn, file);
        (file.contentBase64 === null ? report.removed : report.restored).push(file.path);
      } catch (err) {
        report.failures.push(`restore ${file.path}: ${(err as Error).message}`);
      }
    }
  }
  const seen = new Set<string>();
  for (const command of records.flatMap((r) => r.rebuild)) {
    if (seen.has(command)) continue;
    seen.add(command);
    try {
      const r = await conn.exec(raw(command), { timeoutMs: options.commandTimeoutMs ?? 30 * 60_000 });
      const stderrTail = r.stderr.trim().split('\n').slice(-3).join('\n');
      report.commands.push({ command, exitCode: r.exitCode, stderrTail });
      if (r.exitCode !== 0) report.failures.push(`${command} exited ${r.exitCode}: ${stderrTail}`);
    } catch (err) {
      report.commands.push({ command, exitCode: null, stderrTail: (err as Error).message });
      report.failures.push(`${command}: ${(err as Error).message}`);
    }
  }
  // Last, so rebuild commands that empty a directory (restoring a copied-aside image) let it go too.
  const dirs = records.flatMap((r) => [...(r.createdDirs ?? [])].reverse());
  for (const dir of dirs) {
    const r = await conn.exec(sh`if [ -d ${dir} ]; then rmdir -- ${dir} 2>/dev/null && echo removed; fi; true`);
    if (r.stdout.includes('removed')) report.removedDirs.push(dir);
  }
  return report;
}
