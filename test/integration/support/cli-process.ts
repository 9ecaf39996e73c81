/**
 * The built CLI as a long-lived child process a test can signal (SIGTERM, SIGINT, SIGKILL) while it works, and a
 * read-only look into its journal to know when it has reached a step.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', '..', '..', 'bin', 'rollgate.js');

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  done: Promise<Finished>;
}

/** `env`: added to this process's environment (another controller's HOME, a journal URL ...). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, SSH_AUTH_SOCK: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // Bounded: a CLI that hangs is killed after two minutes (the test then fails on its output).
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const done = new Promise<Finished>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, done };
}

/** Run a query on the journal, read-only; undefined while it does not exist or cannot be read yet. */
export function peek<T>(journal: string, query: (db: Database.Database) => T): T | undefined {
  if (!existsSync(journal)) return undefined;
  let db: Database.Database | undefined;
  try {
    db = new Database(journal, { readonly: true, fileMustExist: true });
    return query(db);
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}

/** Wait (at most `ms`) until `what` gives something other than undefined / false. */
export async function until<T>(what: () => T | undefined | false, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  // Bounded by the deadline.
  while (Date.now() < end) {
    const v = what();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${ms} ms`);
}

/** The id of the step named `task` once it is journaled as pending (running now). */
export function pendingStep(journal: string, task: string): number | undefined {
  return peek(
    journal,
    (db) =>
      (db.prepare("SELECT id FROM steps WHERE task = ? AND status = 'pending'").get(task) as { id: number } | undefined)
        ?.id,
  );
}
