/**
 * The contract every change module meets on a real sshd host whose files live in a throwaway root:
 * check mode changes nothing (hash of the root identical), the real run writes exactly what check mode previewed,
 * a second check finds nothing to do, and undo brings the root back to byte-identical files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { SshConnection } from '../../../src/connection/ssh.js';
import type { ActionModule, CheckOutcome } from '../../../src/modules/module.js';
import { applyUndo, type UndoReport } from '../../../src/modules/undo.js';
import { hashTree, moduleContext } from './module-host.js';

export interface ContractResult<C> {
  outcome: Extract<CheckOutcome<C>, { status: 'change' }>;
  message: string;
  undo: UndoReport;
  /** Hash of the root right after apply (before undo). */
  appliedHash: string;
}

export interface ContractOptions {
  /** Top-level names of the root left out of the hashes (runtime state like sys/). */
  exclude?: string[];
  /** Assertions on the root after apply, before undo. */
  afterApply?: () => void | Promise<void>;
}

export async function runContract<A, C>(
  conn: SshConnection,
  root: string,
  mod: ActionModule<A, C>,
  args: A,
  options: ContractOptions = {},
): Promise<ContractResult<C>> {
  const vars = { rollgate_root: root };
  const exclude = options.exclude ?? [];
  const pristine = hashTree(root, exclude);

  const preview = await mod.check(moduleContext(conn, vars, true), args);
  expect(preview.status, 'check mode finds a change').toBe('change');
  expect(hashTree(root, exclude), 'check mode changed nothing').toBe(pristine);

  const outcome = await mod.check(moduleContext(conn, vars, false), args);
  if (outcome.status !== 'change' || preview.status !== 'change') throw new Error('expected a change');
  expect(outcome.preview).toEqual(preview.preview);
  const { message } = await mod.apply(moduleContext(conn, vars, false), args, outcome.change);
  for (const f of outcome.preview.files) {
    if (f.after === null) expect(existsSync(f.path), `${f.path} deleted`).toBe(false);
    else expect(readFileSync(f.path, 'utf8'), `${f.path} as previewed`).toBe(f.after);
  }
  await options.afterApply?.();
  const appliedHash = hashTree(root, exclude);
  expect(appliedHash).not.toBe(pristine);

  const again = await mod.check(moduleContext(conn, vars, false), args);
  expect(again.status, 'second check finds nothing to do').toBe('no_change');

  const undo = await applyUndo(conn, outcome.undo);
  expect(undo.failures).toEqual([]);
  expect(hashTree(root, exclude), 'undo restored byte-identical files').toBe(pristine);
  return { outcome, message, undo, appliedHash };
}
