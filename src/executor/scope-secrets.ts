/**
 * Secret values that exist only once templated, added to the run's SecretSet before a task renders anything:
 * every variable of the task's scope under a secret-looking name or listed in the play's `no_log_vars`
 * (`db_password: "{{ vault_db_password }}"` yields the value itself), and what a `no_log` task registered.
 */
import type { VarScope } from '../template/vars.js';
import { isSecretName } from '../secrets/secret-names.js';
import type { SecretSet } from '../secrets/secret-set.js';

/** What is shown instead of a no_log task's messages and results (Ansible's words). */
export const NO_LOG_HIDDEN =
  "the output has been hidden due to the fact that 'no_log: true' was specified for this result";
/** What is shown instead of a no_log task's loop item. */
export const NO_LOG_ITEM = '(hidden: no_log)';

/** Add the templated value of every secret variable visible in `scope`. */
export function addScopeSecrets(set: SecretSet, scope: VarScope, noLogVars: readonly string[]): void {
  for (const name of scope.names()) {
    if (!isSecretName(name) && !noLogVars.includes(name)) continue;
    try {
      set.add(scope.lookup(name));
    } catch {
      // A variable that cannot be templated fails the task that reads it, with its position; not this scan.
    }
  }
}

/** Result fields that describe how a task ran rather than what it printed. */
const STATUS_FIELDS = new Set([
  'msg',
  'changed',
  'failed',
  'skipped',
  'unreachable',
  'rc',
  'start',
  'end',
  'delta',
  'cmd',
  'kind',
  'ansible_loop_var',
  'reboot_required',
  'false_condition',
]);

/** Everything a `no_log` task produced (its output, per-item results, facts it set) becomes secret. */
export function addNoLogResult(set: SecretSet, result: unknown, depth = 0): void {
  if (depth > 16 || result === null || typeof result !== 'object') {
    set.add(result);
    return;
  }
  if (Array.isArray(result)) {
    for (const v of result) addNoLogResult(set, v, depth + 1);
    return;
  }
  for (const [key, value] of Object.entries(result as Record<string, unknown>)) {
    if (!STATUS_FIELDS.has(key)) addNoLogResult(set, value, depth + 1);
  }
}
