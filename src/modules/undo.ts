/**
 * Undo: put files back byte for byte (content, mode, owner; delete the ones that did not exist), run the undo
 * commands each step's outcome allows, then remove the directories the changes created. For the changes of a
 * run, pass them newest first: a file touched twice ends with its oldest bytes, and each command runs once,
 * after every file is back.
 *
 * Undo only what happened. A step that did not finish (failed, or pending: interrupted mid-apply) may have done
 * any part of its change or none, so it gets what is safe whatever happened: its recorded file bytes, its
 * created directories when empty, its guarded `restore` commands, and its re-derivations (`rebuild`) only when
 * restoring its files changed some bytes (then they were written, and what was derived from them may be too).
 * Its reversals (`reverse`: the `undo:` of a command, removing a package) assume the change happened and run
 * only for an applied step.
 */
import type { Connection } from '../connection/connection.js';
import { raw, sh } from '../connection/shell-quote.js';
import { restoreBackup } from './host-files.js';
import type { UndoRecord } from './module.js';

/** How a step ended, as undo needs to know it: applied, failed, or pending (the controller died mid-apply). */
export type StepOutcome = 'applied' | 'failed' | 'pending';

/** One step to undo. A bare UndoRecord passed to applyUndos counts as applied (a module test that just applied it). */
export interface UndoEntry {
  record: UndoRecord;
  outcome: StepOutcome;
  /** Names the step in the report, e.g. `step 12 "make the directory"`. */
  label?: string;
}

export interface UndoReport {
  /** Paths written back with their old bytes. */
  restored: string[];
  /** Paths deleted because they did not exist before. */
  removed: string[];
  /** Paths that already held their recorded bytes (nothing written). */
  unchanged: string[];
  /** Created directories removed again (only when empty). */
  removedDirs: string[];
  commands: Array<{ command: string; exitCode: number | null; stderrTail: string }>;
  /** Undo commands not run, and why (a reversal of a step that did not finish ...). */
  skipped: Array<{ command: string; reason: string }>;
  /** Everything that did not work; empty means the undo is complete. */
  failures: string[];
}

export interface UndoOptions {
  /** Budget for each undo command, in milliseconds. Default 30 minutes (initramfs under TCG takes minutes). */
  commandTimeoutMs?: number;
}

/** Undo one applied change. */
export function applyUndo(conn: Connection, record: UndoRecord, options: UndoOptions = {}): Promise<UndoReport> {
  return applyUndos(conn, [record], options);
}

/** Whether undoing a record would do anything (a command without `undo:` journals an empty one). */
export function undoHasWork(record: UndoRecord): boolean {
  return (
    record.files.length > 0 ||
    (record.createdDirs?.length ?? 0) > 0 ||
    [record.rebuild, record.reverse ?? [], record.restore ?? []].some((c) => c.length > 0)
  );
}

const entryOf = (e: UndoRecord | UndoEntry): UndoEntry => ('record' in e ? e : { record: e, outcome: 'applied' });

interface PlannedCommand {
  command: string;
  /** Why it may not run; undefined when it runs. */
  skip?: string;
}

/** The commands of each entry in order (restore, reverse, rebuild), each with the reason it is held back, if any. */
function planCommands(entries: readonly UndoEntry[], bytesChanged: readonly boolean[]): PlannedCommand[] {
  return entries.flatMap((e, i) => {
    const who = e.label ?? 'the step';
    const unfinished = `${who} did not finish (${e.outcome})`;
    const rebuildSkip =
      e.outcome === 'applied' || bytesChanged[i]
        ? undefined
        : `${unfinished} and restoring its files changed no bytes: nothing to re-derive`;
    return [
      ...(e.record.restore ?? []).map((command) => ({ command })),
      ...(e.record.reverse ?? []).map((command) => ({
        command,
        ...(e.outcome === 'applied' ? {} : { skip: `${unfinished}: this undo command assumes the change happened` }),
      })),
      ...e.record.rebuild.map((command) => ({ command, ...(rebuildSkip ? { skip: rebuildSkip } : {}) })),
    ];
  });
}

/** Undo several changes of one host, newest first. Keeps going past failures and reports them. */
export async function applyUndos(
  conn: Connection,
  input: ReadonlyArray<UndoRecord | UndoEntry>,
  options: UndoOptions = {},
): Promise<UndoReport> {
  const entries = input.map(entryOf);
  const report: UndoReport = {
    restored: [],
    removed: [],
    unchanged: [],
    removedDirs: [],
    commands: [],
    skipped: [],
    failures: [],
  };
  const bytesChanged = entries.map(() => false);
  for (const [i, { record }] of entries.entries()) {
    for (const file of record.files) {
      try {
        const done = await restoreBackup(conn, file);
        report[done].push(file.path);
        if (done !== 'unchanged') bytesChanged[i] = true;
      } catch (err) {
        // Unknown what is on disk now: count it as changed, so the re-derivations follow the files.
        bytesChanged[i] = true;
        report.failures.push(`restore ${file.path}: ${(err as Error).message}`);
      }
    }
  }
  const planned = planCommands(entries, bytesChanged);
  const runs = new Set(planned.filter((p) => !p.skip).map((p) => p.command));
  const seen = new Set<string>();
  for (const { command, skip } of planned) {
    if (seen.has(command)) continue;
    if (!runs.has(command)) {
      seen.add(command);
      report.skipped.push({ command, reason: skip ?? '' });
      continue;
    }
    if (skip) continue; // runs at the position of an entry that allows it
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
  // Last, so commands that empty a directory (restoring a copied-aside image) let it go too.
  const dirs = entries.flatMap((e) => [...(e.record.createdDirs ?? [])].reverse());
  for (const dir of dirs) {
    const r = await conn.exec(sh`if [ -d ${dir} ]; then rmdir -- ${dir} 2>/dev/null && echo removed; fi; true`);
    if (r.stdout.includes('removed')) report.removedDirs.push(dir);
  }
  return report;
}
