/**
 * How every command opens the journal: from --journal / ROLLGATE_JOURNAL / the state directory, a journal that
 * cannot be used as bad input (exit 2) with what to do, a wait for another process told on stderr, and a warning
 * (once per process) when it sits on a network filesystem, where SQLite's locking cannot be trusted. A --fleet-lock /
 * ROLLGATE_FLEET_LOCK_URL that is not a PostgreSQL URL is refused here, by every command (session.ts opens the lock).
 */
import { ConfigError } from '../core/config-error.js';
import { Journal } from '../journal/journal.js';
import { BUSY_BOUND_MS } from '../journal/journal-busy.js';
import { JournalUnusableError, networkFsOf } from '../journal/journal-file.js';
import { resolveJournalPath } from '../journal/journal-path.js';
import { fleetLockFlag, fleetLockInUse } from './fleet-lock-option.js';

const warned = new Set<string>();

export function openJournal(flag: string | undefined): Journal {
  const path = resolveJournalPath(flag);
  const given = fleetLockFlag() !== undefined ? '--fleet-lock' : 'ROLLGATE_FLEET_LOCK_URL';
  const fleetLockUrl = fleetLockInUse();
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
          `rollgate: the journal ${path} is locked by another process; waiting for it (at most ${BUSY_BOUND_MS / 1000} s)\n`,
        ),
    });
  } catch (err) {
    if (!(err instanceof JournalUnusableError)) throw err;
    throw new ConfigError([{ message: `journal ${err.path}: ${err.problem}`, hint: err.hint }]);
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
