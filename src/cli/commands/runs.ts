/**
 * `rollgate runs`: the journal's runs, newest first. `rollgate show RUN [--host H]`: a run's per-host timeline
 * from the journal alone (phases, the play's task results, reboots, verifications as readable diffs, rollbacks,
 * needs-a-person evidence) followed by every journaled step and whether it was undone.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../load/config-error.js';
import type { RollgateEvent } from '../../events/events.js';
import type { SetExitCode } from './index.js';

export function registerRuns(program: Command, _setExitCode: SetExitCode): void {
  program
    .command('runs')
    .description('List runs in the journal, newest first')
    .option('--journal <path>', 'journal database (default $ROLLGATE_JOURNAL or ~/.local/state/rollgate/journal.db)')
    .action(async (opts: { journal?: string }) => {
      const [{ Journal }, { resolveJournalPath }] = await Promise.all([import('../../journal/journal.js'), import('../../journal/journal-path.js')]);
      const journal = Journal.open(resolveJournalPath(opts.journal));
      try {
        for (const r of journal.listRuns()) {
          const hosts = journal.listHosts(r.id);
          process.stdout.write(`${r.id}  ${r.kind.padEnd(7)} ${r.status.padEnd(12)} ${new Date(r.startedAt).toISOString()}  ${hosts.length} host(s)  ${r.playbook ?? ''}\n`);
        }
      } finally {
        journal.close();
      }
    });

  program
    .command('show')
    .description('Per-host timeline of a run: steps, verifications (as diffs), rollbacks, evidence')
    .argument('<run>', 'run id')
    .option('--host <name>', 'only this host')
    .option('--journal <path>', 'journal database')
    .action(async (runId: string, opts: { host?: string; journal?: string }) => {
      const [{ Journal }, { resolveJournalPath }, { formatRolloutEvent }] = await Promise.all([
        import('../../journal/journal.js'), import('../../journal/journal-path.js'), import('../../render/rollout-plain.js'),
      ]);
      const journal = Journal.open(resolveJournalPath(opts.journal));
      try {
        const run = journal.getRun(runId);
        if (!run) throw new ConfigError([{ message: `no run ${runId} in ${journal.path}`, hint: 'list runs with `rollgate runs`' }]);
        const out = (line: string) => void process.stdout.write(`${line}\n`);
        out(`run ${run.id} (${run.kind}) ${run.status}, started ${new Date(run.startedAt).toISOString()}${run.finishedAt ? `, finished ${new Date(run.finishedAt).toISOString()}` : ''}`);
        if (run.playbook) out(`playbook ${run.playbook}, inventory ${run.inventory.join(', ')}`);
        for (const e of journal.listEvents(runId).filter((x) => x.host === null)) for (const l of formatRolloutEvent(e.data as RollgateEvent)) out(`${new Date(e.at).toISOString().slice(11, 19)} ${l}`);
        for (const h of journal.listHosts(runId).filter((x) => !opts.host || x.host === opts.host)) {
          out(`\n${h.host}: ${h.status}`);
          for (const e of journal.listEvents(runId, h.host)) {
            for (const l of formatRolloutEvent(e.data as RollgateEvent)) out(`  ${new Date(e.at).toISOString().slice(11, 19)} ${l.replace(/^  /, "")}`);
          }
          for (const s of journal.listSteps(runId, h.host)) {
            out(`  step #${s.id} ${s.module} "${s.task}": ${s.status}${s.undoneAt ? ` (undone by ${s.undoneBy})` : ''}${s.message ? ` — ${s.message.split('\n')[0]}` : ''}`);
          }
        }
      } finally {
        journal.close();
      }
    });
}
