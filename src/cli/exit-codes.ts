/**
 * Exit statuses of rollgate, one per outcome an operator or a script must tell apart. Documented in
 * `rollgate rollout --help`; the CLI is the only place that maps outcomes to them.
 */
import type { RolloutResult } from '../events/events.js';

export const EXIT = {
  /** Every host changed (or had nothing to change) and verified. */
  ok: 0,
  /** A host failed before anything was changed on it (unreachable, preflight refused, a check failed). */
  failed: 1,
  /** Bad input: playbook, inventory or options (nothing was touched). */
  badInput: 2,
  /** At least one host was rolled back to its verified previous state; the run stopped. */
  rolledBack: 3,
  /** At least one host needs a person: it could not be brought back or did not verify; the run stopped. */
  needsPerson: 4,
  /** Another run holds the lock of a host (or the cluster's down slots); nothing was touched. */
  lockRefused: 5,
} as const;

export function exitCodeFor(result: RolloutResult): number {
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
      return EXIT.lockRefused;
  }
}

export const EXIT_HELP = `Exit status:
  0  every host changed (or had nothing to change) and verified
  1  a host failed before anything was changed on it (unreachable, preflight refused)
  2  bad input (playbook, inventory, options); nothing was touched
  3  a host was rolled back to its verified previous state; the run stopped
  4  a host needs a person (not back, or its old state did not verify); the run stopped
  5  another run holds the lock of a host; nothing was touched`;
