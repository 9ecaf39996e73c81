/**
 * What the next boot must show, read back from the journal: the steps this run made on the host (their templated
 * options and results, journaled by the playbook executor) say which args, drivers and kernel the play declared.
 * Reading the journal rather than the play means loops, registered values and `when` have already been decided,
 * and a resumed run sees the same expectations as the run that was killed.
 */
import type { StepRow, UndoableStep } from '../../journal/journal-types.js';
import { undoHasWork } from '../../modules/undo.js';
import { findModule } from '../../modules/registry.js';
import { noExpectations, type Expectations } from './verify.js';

/** Add what one step declares about the next boot: its module's own `expectAfterBoot` (modules/registry.ts). */
export function addStepExpectations(
  exp: Expectations,
  step: Pick<StepRow, 'module' | 'args' | 'status' | 'data'>,
): void {
  findModule(step.module)?.expectAfterBoot?.(exp, step);
}

/** Expectations from every step of the run on the host that ran (ok or applied) and was not undone. */
export function expectationsFromSteps(steps: readonly StepRow[], passthroughIds: readonly string[]): Expectations {
  const exp = noExpectations();
  for (const s of steps)
    if ((s.status === 'ok' || s.status === 'applied') && s.undoneAt === null) addStepExpectations(exp, s);
  exp.argsPresent = [...new Set(exp.argsPresent)];
  exp.argsAbsent = [...new Set(exp.argsAbsent)].filter((a) => !exp.argsPresent.includes(a));
  exp.verifyPresent = [...new Set(exp.verifyPresent)];
  exp.verifyAbsent = [...new Set(exp.verifyAbsent)];
  exp.passthroughIds = [...passthroughIds];
  return exp;
}

/**
 * Whether the play changed the host in a way a boot must prove: a step not undone yet that the journal can undo
 * (files, undo commands, created directories), apart from the rollout's own. `command` / `shell` steps without an
 * `undo:` carry none and do not count, whatever `changed_when` said.
 */
export function changedByPlay(steps: readonly UndoableStep[]): boolean {
  return steps.some((s) => !s.module.startsWith('rollout.') && undoHasWork(s.undo));
}

/** passthrough_devices from the inventory: a list or a comma/space separated string of vendor:device ids. */
export function passthroughIdsOf(vars: Record<string, unknown>): string[] {
  const v = vars.passthrough_devices;
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : [];
}
