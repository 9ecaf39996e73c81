/**
 * `rollgate runs`: the journal's runs, newest first. `rollgate show RUN [--host H]`: a run's per-host timeline
 * from the journal alone (phases, the play's task results, reboots, verifications as readable diffs, rollbacks,
 * needs-a-person evidence) followed by every journaled step and whether it was undone. `rollgate unlock RUN
 * [--host H]`: release the host locks and cluster slots a finished run still holds (a host that needed a person
 * keeps both until someone has looked at it).
 */
import type { Command } from 'commander';
import { ConfigError } from '../../core/config-error.js';
import type { SetExitCode } from './index.js';
import { collect } from '../options.js';
import { EXIT } from '../exit-codes.js';
import { sessionFleetLock, sessionJournalView, sessionUnlockView } from '../session.js';

export function registerRuns(program: Command, setExitCode: SetExitCode): void {
  program
    .command('runs')
    .description('List runs in the journal, newest first')
    .option(
      '--journal <path>',
      'journal: a SQLite file, or a postgresql:// URL several controllers share (default $ROLLGATE_JOURNAL or ~/.local/state/rollgate/journal.db)',
    )
    .option('--json', 'one JSON object per run and line: id, kind, status, times, playbook, hosts and their outcomes')
    .action(async (opts: { journal?: string; json?: boolean }) => {
      const { openJournal } = await import('../journal-open.js');
      const view = await sessionJournalView(opts.json);
      const journal = openJournal(opts.journal);
      try {
        for (const r of journal.listRuns()) process.stdout.write(`${view.runLine(journal, r)}\n`);
      } finally {
        journal.close();
      }
    });

  program
    .command('show')
    .description('Per-host timeline of a run: steps, verifications (as diffs), rollbacks, evidence')
    .argument('<run>', 'run id')
    .option('--host <name>', 'only this host')
    .option('--journal <path>', 'journal: a SQLite file or a postgresql:// URL')
    .option('--json', 'one JSON document: the run, its events, and each host with its events and steps')
    .action(async (runId: string, opts: { host?: string; journal?: string; json?: boolean }) => {
      const { openJournal } = await import('../journal-open.js');
      const view = await sessionJournalView(opts.json);
      const journal = openJournal(opts.journal);
      try {
        const run = journal.getRun(runId);
        if (!run)
          throw new ConfigError([
            { message: `no run ${runId} in ${journal.path}`, hint: 'list runs with `rollgate runs`' },
          ]);
        for (const line of view.show(journal, run, opts.host)) process.stdout.write(`${line}\n`);
      } finally {
        journal.close();
      }
    });

  program
    .command('unlock')
    .description(
      'Release the host locks and cluster slots a finished, interrupted or dead run still holds (refused while its controller lives)',
    )
    .argument('<run>', 'run id')
    .option('--host <name>', 'only this host (repeatable)', collect)
    .option(
      '--force',
      'the run is marked running by a controller on another machine (no lease) that is known to be dead',
    )
    .option('--journal <path>', 'journal: a SQLite file or a postgresql:// URL')
    .action(async (runId: string, opts: { host?: string[]; force?: boolean; journal?: string }) => {
      const [{ openJournal }, { checkRunnable, UndoRefused }, render] = await Promise.all([
        import('../journal-open.js'),
        import('../../executor/undo-run.js'),
        sessionUnlockView(),
      ]);
      const journal = openJournal(opts.journal);
      const lock = await sessionFleetLock(journal);
      try {
        const run = journal.getRun(runId);
        const holds = (await lock.listHostLocks()).some((l) => l.runId === runId);
        // A lock of a run this journal does not know (a lost or foreign run) can still be released.
        if (!run && !holds)
          throw new ConfigError([
            { message: `no run ${runId} in ${journal.path}`, hint: 'list runs with `rollgate runs`' },
          ]);
        try {
          if (run) checkRunnable(journal, run, runId, opts.force === true);
        } catch (err) {
          if (!(err instanceof UndoRefused)) throw err;
          process.stderr.write(`rollgate unlock: ${err.message}\n`);
          return setExitCode(EXIT.refused);
        }
        const wanted = (host: string) => !opts.host || opts.host.includes(host);
        const all = (await lock.listHostLocks()).filter((l) => l.runId === runId && wanted(l.host));
        // One line per host: its address and host key identities are released together.
        const locks = all.filter((l, i) => all.findIndex((m) => m.host === l.host) === i);
        const slots = (await lock.listDownSlots()).filter((s) => s.runId === runId && wanted(s.host));
        await lock.releaseHostLocks(
          runId,
          locks.map((l) => l.host),
        );
        for (const s of slots) await lock.releaseDownSlot(runId, s.cluster, s.host);
        for (const line of render({ runId, locks, slots, ...(opts.host ? { asked: opts.host } : {}) }))
          process.stdout.write(`${line}\n`);
        setExitCode(EXIT.ok);
      } finally {
        void lock.close().catch(() => undefined);
        journal.close();
      }
    });
}
