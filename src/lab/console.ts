/**
 * A VM's serial console log (QEMU appends to it across reboots and resets): read what came after a mark, wait
 * for a line to appear. Evidence for boots that never reach SSH (a kernel that cannot find its disk, a hung
 * shutdown), which only the console shows.
 */
import { openSync, readSync, closeSync, statSync, existsSync } from 'node:fs';

/** Current end of the log, in bytes: pass it to consoleSince / waitForConsole to see only what follows. */
export function consoleMark(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

/** Text appended since `mark`, with terminal escapes and carriage returns removed. */
export function consoleSince(file: string, mark: number): string {
  if (!existsSync(file)) return '';
  const size = statSync(file).size;
  if (size <= mark) return '';
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - mark);
    readSync(fd, buf, 0, buf.length, mark);
    return stripTerminal(buf.toString('utf8'));
  } finally {
    closeSync(fd);
  }
}

export function stripTerminal(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

/** Wait (polling, bounded) until the text after `mark` matches; returns the match. */
export async function waitForConsole(file: string, mark: number, pattern: RegExp, timeoutMs: number, pollMs = 1000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = consoleSince(file, mark).match(pattern);
    if (m) return m;
    if (Date.now() > deadline) {
      const tail = consoleSince(file, mark).split('\n').slice(-12).join('\n');
      throw new Error(`console ${file}: no ${pattern} within ${Math.round(timeoutMs / 1000)} s; last lines:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
