/**
 * Walking an inventory directory or a group_vars/ host_vars/ directory: sorted as Ansible sorts (by code point)
 * and into subdirectories, but never around a symbolic link loop, and an entry that cannot be read is a problem
 * naming its path rather than a crash.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigProblem } from '../core/config-error.js';

/** Python's default string order (by code point), which Ansible's sorted() uses. */
export function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

export type WalkEntry = { file: string } | { problem: ConfigProblem };

function unreadable(path: string, err: unknown): WalkEntry {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  const hint =
    code === 'ELOOP'
      ? 'a symbolic link points back at itself; fix or remove it'
      : code === 'ENOENT'
        ? 'a symbolic link points at nothing; fix or remove it'
        : 'check the permissions of this path';
  return { problem: { position: { file: path, line: 1, column: 1 }, message: `cannot read ${path}: ${code}`, hint } };
}

/** Files under `dir`, in order; `skip(name, isDirectory)` leaves an entry out. */
export function* walkDirectory(
  dir: string,
  skip: (name: string, isDirectory: boolean) => boolean,
  ancestors: ReadonlySet<string> = new Set(),
): Generator<WalkEntry> {
  let real: string;
  let names: string[];
  try {
    real = realpathSync(dir);
    names = readdirSync(dir).sort(byCodePoint);
  } catch (err) {
    yield unreadable(dir, err);
    return;
  }
  if (ancestors.has(real)) {
    const message = `${dir} leads back to ${real}, a directory it is inside (a symbolic link loop)`;
    yield {
      problem: {
        position: { file: dir, line: 1, column: 1 },
        message,
        hint: 'remove the link, or give a directory without loops',
      },
    };
    return;
  }
  const inside = new Set(ancestors).add(real);
  for (const name of names) {
    const full = join(dir, name);
    let isDirectory: boolean;
    try {
      isDirectory = statSync(full).isDirectory();
    } catch (err) {
      if (!skip(name, false)) yield unreadable(full, err);
      continue;
    }
    if (skip(name, isDirectory)) continue;
    if (isDirectory) yield* walkDirectory(full, skip, inside);
    else yield { file: full };
  }
}
