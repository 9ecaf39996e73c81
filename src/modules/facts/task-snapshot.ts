/**
 * A snapshot taken by a playbook task (`snapshot`, `verify`, gather_facts): collected over the task's connection
 * (its become setting), judged against the host's desired state from its variables, and journaled under `phase`.
 */
import { formatProblem } from '../../core/config-error.js';
import type { ControllerContext } from '../controller-action.js';
import { ModuleFailure } from '../module.js';
import { desiredStateFrom, type DesiredState } from '../findings/desired.js';
import { evaluateFindings, type FindingsReport } from '../findings/evaluate.js';
import { collectSnapshot } from './collect.js';
import type { HostSnapshot } from './snapshot.js';

export interface TaskSnapshot {
  snapshot: HostSnapshot;
  report: FindingsReport;
  desired: DesiredState;
}

/** Seconds of performance sampling behind the `profile: true` option (as `rollgate check --profile`). */
export const PROFILE_SECONDS = 5;

export async function takeTaskSnapshot(
  ctx: ControllerContext,
  phase: string,
  profileSeconds = 0,
): Promise<TaskSnapshot> {
  const { desired, problems } = desiredStateFrom(ctx.host, ctx.vars);
  if (problems.length) throw new ModuleFailure(problems.map(formatProblem).join('; '));
  const snapshot = await collectSnapshot(
    ctx.conn,
    { name: ctx.host, vars: ctx.vars },
    { passthroughIds: desired.passthroughIds, profileSeconds },
  );
  ctx.snapshots?.record(phase, snapshot);
  return { snapshot, report: evaluateFindings(snapshot, desired), desired };
}
