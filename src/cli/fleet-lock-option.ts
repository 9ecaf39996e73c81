/**
 * `--fleet-lock URL` on the program, so every command that opens the journal takes it (before or after the command
 * name): the fleet lock several controllers share in PostgreSQL, ahead of ROLLGATE_FLEET_LOCK_URL (journal-open.ts).
 * Kept apart from journal-open.ts so that declaring the option does not load the journal's SQLite. Also the rule that
 * a rollout resumes under the lock it started with.
 */
import { Option, type Command } from 'commander';
import { ConfigError } from '../core/config-error.js';

let given: string | undefined;
let inJournal = false;

/** The `--fleet-lock` of this invocation, once its command is about to run. */
export const fleetLockFlag = (): string | undefined => given;

/** The fleet lock URL this invocation was given: --fleet-lock, else ROLLGATE_FLEET_LOCK_URL. */
export const fleetLockGiven = (): string | undefined => given ?? (process.env.ROLLGATE_FLEET_LOCK_URL || undefined);

/**
 * The shared fleet lock this invocation uses apart from the journal: the one given; none when it is the journal's
 * own (a journal in PostgreSQL holds the fleet lock in its database: journal-open.ts says so with fleetLockIsJournals).
 */
export const fleetLockInUse = (): string | undefined => (inJournal ? undefined : fleetLockGiven());

/** The fleet lock given names the database of the journal in PostgreSQL, which holds the lock anyway. */
export const fleetLockIsJournals = (): void => void (inJournal = true);

/** A fleet lock URL as a run keeps it (for resume to compare): without its password. */
export function fleetLockShown(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/^([^:/]+:\/\/[^:@/]*):[^@/]*@/, '$1@');
  }
}

export function addFleetLockOption(program: Command): void {
  program
    .addOption(
      new Option(
        '--fleet-lock <url>',
        'PostgreSQL URL of the fleet lock several controllers share (default $ROLLGATE_FLEET_LOCK_URL; else the journal keeps it)',
      ),
    )
    .hook('preAction', (root) => {
      given = root.opts<{ fleetLock?: string }>().fleetLock;
    });
}

/**
 * A rollout resumes under the fleet lock it started with: its host locks and cluster down-slots are there, and a
 * resume under another lock would neither see nor release them.
 */
export function sameFleetLock(runId: string, was: string | undefined): void {
  const now = fleetLockInUse();
  const shown = now === undefined ? undefined : fleetLockShown(now);
  if (shown === was) return;
  throw new ConfigError([
    was === undefined
      ? {
          message: `run ${runId} kept its host locks in this controller's journal, not in the fleet lock at ${shown}`,
          hint: `resume it without --fleet-lock and without ROLLGATE_FLEET_LOCK_URL`,
        }
      : {
          message: `run ${runId} holds its hosts in the fleet lock at ${was}${shown ? `, not ${shown}` : '; this resume has no fleet lock and would not see them'}`,
          hint: `resume it with the same lock: rollgate resume ${runId} --fleet-lock ${was} (the password from PGPASSWORD or ~/.pgpass), or set ROLLGATE_FLEET_LOCK_URL`,
        },
  ]);
}
