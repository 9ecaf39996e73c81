/**
 * Ansible's `serial`, the one reading both `run` and `rollout` use: a host count, a percentage or a list of them;
 * the last value repeats until every host is in a batch. The loader parses it with `parseSerial` (file:line:col
 * added there), `planRun` and `planRollout` split hosts with `planBatches`.
 *
 * Forms (Ansible's `pct_to_int`): an integer (0 = every remaining host), a string of digits, or "N%" with a whole
 * N from 1 to 100 (Ansible's `int("12.5")` fails; "0%" and "150%" run in Ansible but are almost surely mistakes).
 * A percentage is of all hosts the play targets, `int(N / 100.0 * hosts)` as Ansible computes it (floating
 * point, so 29% of 100 hosts is 28), at least 1.
 */

/** One step of `serial`: a host count (0 = all remaining hosts), or a whole percentage of the play's hosts. */
export type SerialStep = { kind: 'count'; value: number } | { kind: 'percent'; value: number };

/** Why a value is not a serial, relative to the `serial` key: `path` is [] or [index in the list]. */
export interface SerialProblem {
  path: number[];
  message: string;
  hint: string;
}

const HINT = 'write a host count such as 2, a percentage such as "25%" or a list such as [1, "25%"]';

/**
 * JSON Schema of one step, for the playbook schema (editors, load-time shape check): loose enough that
 * `parseSerial` says what is wrong with a number or a percentage-like string ("12.5%", "0%").
 */
const STEP_DESCRIPTION = 'a host count such as 2 or a whole percentage such as "25%"';
export const serialStepSchema = {
  oneOf: [
    { type: 'number' },
    { type: 'string', pattern: '^\\s*[0-9]+(\\.[0-9]*)?\\s*%?\\s*$', description: STEP_DESCRIPTION },
  ],
  description: STEP_DESCRIPTION,
} as const;

/** Whether a value has the step schema's shape (the loader leaves other values to the schema's message). */
export function hasSerialStepShape(value: unknown): boolean {
  return typeof value === 'number' || (typeof value === 'string' && /^\s*[0-9]+(\.[0-9]*)?\s*%?\s*$/.test(value));
}

function parseStep(value: unknown): SerialStep | string {
  const shown = typeof value === 'string' ? `"${value}"` : String(value);
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0
      ? { kind: 'count', value }
      : `\`serial\` ${shown} is not a whole number of hosts`;
  }
  if (typeof value === 'string') {
    if (/^\s*\d+\s*$/.test(value)) return { kind: 'count', value: Number.parseInt(value, 10) };
    const pct = /^\s*(\d+(?:\.\d*)?)\s*%\s*$/.exec(value);
    if (!pct) return `\`serial\` ${shown} is neither a host count nor a percentage`;
    const n = Number(pct[1]);
    if (!Number.isInteger(n)) return `\`serial\` ${shown} is not a whole percentage (Ansible refuses it too)`;
    if (n < 1 || n > 100) return `\`serial\` ${shown} must be from 1% to 100%`;
    return { kind: 'percent', value: n };
  }
  return `\`serial\` must be a host count, a percentage or a list of them, not ${value === null ? 'null' : typeof value}`;
}

/** Read `serial` as written in a play: the steps, or every problem found (paths relative to `serial`). */
export function parseSerial(value: unknown): { steps: SerialStep[]; problems: SerialProblem[] } {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  const problems: SerialProblem[] = [];
  const steps: SerialStep[] = [];
  if (list.length === 0) problems.push({ path: [], message: '`serial` is an empty list', hint: HINT });
  list.forEach((v, i) => {
    const step = parseStep(v);
    if (typeof step === 'string') problems.push({ path: Array.isArray(value) ? [i] : [], message: step, hint: HINT });
    else steps.push(step);
  });
  return { steps: problems.length ? [] : steps, problems };
}

/** Ansible's pct_to_int: a percentage of `total` as `int(pct / 100.0 * total)`, at least 1; a count as is. */
export function serialStepCount(step: SerialStep, total: number): number {
  return step.kind === 'count' ? step.value : Math.trunc((step.value / 100) * total) || 1;
}

/**
 * Split hosts into batches. `total` is the number the percentages are taken of (Ansible: every host of the play;
 * the rollout passes the play's host count even when canaries were taken out first). A count of 0 means "all
 * remaining hosts", as in Ansible. No steps: one batch of every host.
 */
export function planBatches(
  hosts: readonly string[],
  serial: readonly SerialStep[] | undefined,
  total = hosts.length,
): string[][] {
  const steps: readonly SerialStep[] = serial && serial.length > 0 ? serial : [{ kind: 'count', value: 0 }];
  const remaining = [...hosts];
  const batches: string[][] = [];
  let item = 0;
  // Each round takes at least one host or all of them, so this ends within hosts.length rounds.
  while (remaining.length > 0) {
    const count = serialStepCount(steps[item] as SerialStep, total);
    if (count <= 0) {
      batches.push(remaining.splice(0));
      break;
    }
    batches.push(remaining.splice(0, count));
    item = Math.min(item + 1, steps.length - 1);
  }
  return batches;
}
