/**
 * One exit-status table for every command (run, rollout, resume, exec, check, snapshot, undo): each outcome an
 * operator or a script must tell apart has its own number, and when several apply the most serious wins
 * (needs a person > rolled back > unreachable > failed, unreachable before failed as ansible-playbook does). The CLI is the only place that maps outcomes to them;
 * every command's --help prints EXIT_HELP.
 */
import type { RolloutResult } from '../events/events.js';

export const EXIT = {
  /** Every host ok (changed, unchanged, verified). */
  ok: 0,
  /** A host failed: a task or command failed, a check found an error, a preflight or an undo failed. */
  failed: 1,
  /** Bad input: playbook, inventory, options or run id. Nothing was contacted. */
  badInput: 2,
  /** A host's change did not stand and it was brought back to its verified previous state; the run stopped. */
  rolledBack: 3,
  /** A host could not be reached (its state is unknown). */
  unreachable: 4,
  /** Refused: another run holds the lock of a host (or is still in progress). Nothing was touched. */
  refused: 5,
  /** A host needs a person: not back, or its old state does not verify either. The run stopped. */
  needsPerson: 6,
  /**
   * The maintenance window stopped a rollout before some hosts' changes (nothing else went wrong): the hosts done
   * are done, the rest untouched; `rollgate resume` goes on inside the next window.
   */
  window: 7,
  /**
   * The journal's PostgreSQL server (or the fleet lock's) went away mid-command and did not come back within the
   * retry bound: the command stopped before its next change; resume or undo the run once the server is back.
   */
  databaseLost: 8,
  /** A bug in rollgate (printed with its stack; please report). */
  internal: 70,
  /** Interrupted by SIGINT (Ctrl-C): the shell's 128+2. The step in flight finished; the run is `interrupted`. */
  sigint: 130,
  /** Interrupted by SIGTERM: the shell's 128+15. */
  sigterm: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_HELP = `Exit status (the same for every command; the most serious applies):
  0  every host ok
  1  a host failed (a task or command failed, a check found an error, a preflight refused)
  2  bad input (playbook, inventory, options); nothing was contacted
  3  a host was rolled back to its verified previous state; the run stopped
  4  a host was unreachable (its state is unknown)
  5  refused: another run holds the lock of a host; nothing was touched
  6  a host needs a person (not back, or its old state does not verify); the run stopped
  7  a rollout stopped at its maintenance window: the hosts not started are untouched, resume goes on later
  8  the journal's (or fleet lock's) PostgreSQL server went away and stayed away: the command stopped before
     its next change; once it is back, resume or undo the run
  70 internal error (please report)
  130, 143  interrupted by SIGINT / SIGTERM: the step in flight finished, the run is marked interrupted
            (a second signal stops at once); the message says how to resume or undo`;

/** Host counts of a finished command, in whatever mix it produced. */
export interface Tally {
  failed?: number;
  unreachable?: number;
  rolledBack?: number;
  needsPerson?: number;
}

export function exitCodeOf(t: Tally): ExitCode {
  if ((t.needsPerson ?? 0) > 0) return EXIT.needsPerson;
  if ((t.rolledBack ?? 0) > 0) return EXIT.rolledBack;
  if ((t.unreachable ?? 0) > 0) return EXIT.unreachable;
  if ((t.failed ?? 0) > 0) return EXIT.failed;
  return EXIT.ok;
}

export function rolloutExitCode(result: RolloutResult): ExitCode {
  switch (result) {
    case 'succeeded':
      return EXIT.ok;
    case 'failed':
      return EXIT.failed;
    case 'rolled_back':
      return EXIT.rolledBack;
    case 'needs_person':
      return EXIT.needsPerson;
    case 'lock_refused':
      return EXIT.refused;
  }
}
