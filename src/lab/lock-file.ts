/**
 * A lock file holding the owner's pid, so separate CLI invocations and test files do not build the image or
 * start the same VMs at once. A lock whose owner is gone is taken over.
 */
import { openSync, writeSync, closeSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { threadId } from 'node:worker_threads';

/** Who holds a lock: the pid, and the worker thread when not the main one (test runners share a process). */
const OWNER = threadId ? `${process.pid}:${threadId}` : String(process.pid);
const ownerPid = (text: string) => Number(text.trim().split(':')[0]);

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryTake(path: string): boolean {
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, OWNER);
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    let text = '';
    try {
      text = readFileSync(path, 'utf8').trim();
    } catch {
      return false;
    }
    if (text === OWNER) return true;
    if (!pidAlive(ownerPid(text))) {
      rmSync(path, { force: true });
      return false; // retry
    }
    return false;
  }
}

/** Hold `path` while fn runs; waits (polling, bounded by timeoutMs) while another live process holds it. */
export async function withLockFile<T>(path: string, timeoutMs: number, what: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let reentrant = false;
  for (;;) {
    try {
      if (readFileSync(path, 'utf8').trim() === OWNER) {
        reentrant = true;
        break;
      }
    } catch {
      // no lock yet
    }
    if (tryTake(path)) break;
    if (Date.now() > deadline) throw new Error(`${what}: still locked by another process after ${Math.round(timeoutMs / 1000)} s (${path})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  try {
    return await fn();
  } finally {
    if (!reentrant) rmSync(path, { force: true });
  }
}
