/**
 * How every command opens the journal: from --journal / ROLLGATE_JOURNAL / the state directory (a SQLite file, or a
 * postgresql:// URL several controllers share), a journal that cannot be used or reached as bad input (exit 2) with
 * what to do and never the password, a wait for another process told on stderr, and a warning (once per process)
 * when a SQLite journal sits on a network filesystem, where SQLite's locking cannot be trusted. A --fleet-lock /
 * ROLLGATE_FLEET_LOCK_URL that is not a PostgreSQL URL is refused here, by every command (session.ts opens the
 * lock); with a journal in PostgreSQL the lock is the journal's own, and one naming another database is refused.
 */
import { ConfigError } from '../core/config-error.js';
import { Journal } from '../journal/journal.js';
import { BUSY_BOUND_MS } from '../journal/journal-busy.js';
import { RECONNECT_BOUND_MS } from '../journal/database-lost.js';
import { JournalUnusableError, networkFsOf } from '../journal/journal-file.js';
import { resolveJournalPath } from '../journal/journal-path.js';
import { fleetLockFlag, fleetLockGiven, fleetLockIsJournals } from './fleet-lock-option.js';
import { isPostgresUrl, urlWithoutPassword } from '../journal/pg-url.js';

const warned = new Set<string>();
/** Every journal this process opened: a command stopped by a lost journal names the runs they held. */
const opened: Journal[] = [];

/** The runs this process held when it stopped (their leases were not let go). */
export function runsInHand(): string[] {
  return [...new Set(opened.flatMap((j) => [...j.runsHeld]))];
}

export function openJournal(flag: string | undefined): Journal {
  const path = resolveJournalPath(flag);
  const given = fleetLockFlag() !== undefined ? '--fleet-lock' : 'ROLLGATE_FLEET_LOCK_URL';
  const fleetLockUrl = fleetLockGiven();
  if (fleetLockUrl !== undefined && !/^postgres(ql)?:\/\//.test(fleetLockUrl))
    throw new ConfigError([
      {
        message: `${given} is not a PostgreSQL connection string`,
        hint: `write e.g. ${given === '--fleet-lock' ? '--fleet-lock ' : 'ROLLGATE_FLEET_LOCK_URL='}postgres://rollgate@db.example/rollgate, or leave it out to keep the lock in the journal`,
      },
    ]);
  let journal: Journal;
  try {
    journal = Journal.open(path, {
      onBusyWait: () =>
        void process.stderr.write(
          `rollgate: the journal ${isPostgresUrl(path) ? urlWithoutPassword(path) : path} is locked by another process; waiting for it (at most ${BUSY_BOUND_MS / 1000} s)\n`,
        ),
      onReconnect: (why) =>
        void process.stderr.write(
          `rollgate: the journal ${urlWithoutPassword(path)} lost its connection (${why}); connecting again (for at most ${RECONNECT_BOUND_MS / 1000} s)\n`,
        ),
    });
    opened.push(journal);
  } catch (err) {
    if (!(err instanceof JournalUnusableError)) throw err;
    const named = isPostgresUrl(path) ? `${journalGiven(flag)} ` : 'journal ';
    throw new ConfigError([{ message: `${named}${err.path}: ${err.problem}`, hint: err.hint }]);
  }
  if (journal.shared) {
    if (fleetLockUrl !== undefined) sharedJournalFleetLock(journal, fleetLockUrl, given);
    return journal;
  }
  const fs = networkFsOf(path);
  if (fs && !warned.has(path)) {
    warned.add(path);
    process.stderr.write(
      `rollgate: warning: the journal ${path} is on a network filesystem (${fs}); SQLite's locking is not reliable there, ` +
        'so two controllers could both believe they hold a host. Keep the journal on a local disk (--journal PATH or ROLLGATE_JOURNAL)\n',
    );
  }
  return journal;
}

/** Which option gave the journal: --journal, else ROLLGATE_JOURNAL. */
const journalGiven = (flag: string | undefined) => (flag ? '--journal' : 'ROLLGATE_JOURNAL');

/**
 * A journal in PostgreSQL holds the fleet lock in its own database: a fleet lock given for that database is the
 * same lock (used as the journal's), one on another database would split a run's rows from its locks (refused).
 */
function sharedJournalFleetLock(journal: Journal, url: string, given: string): void {
  if (journal.sharesDatabaseWith(url)) {
    fleetLockIsJournals();
    return;
  }
  journal.close();
  throw new ConfigError([
    {
      message: `${given} ${urlWithoutPassword(url)} names another database than the journal ${journal.path}`,
      hint: `a journal in PostgreSQL keeps the fleet lock in its own database, shared by every controller using it: leave ${given} out`,
    },
  ]);
}
