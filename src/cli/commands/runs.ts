/** `rollgate runs`: the runs in the journal, newest first. */
import type { Command } from 'commander';
import type { SetExitCode } from './index.js';
import { positiveNumber } from './exec.js';

interface RunsOptions {
  journal?: string;
  json?: boolean;
  last: string;
}

async function listRuns(opts: RunsOptions, setExitCode: SetExitCode): Promise<void> {
  const last = positiveNumber(opts.last, '--last', true)!;
  const [{ Journal }, { resolveJournalPath }, { runHosts }] = await Promise.all([
    import('../../journal/journal.js'),
    import('../../journal/journal-path.js'),
    import('../../executor/undo-run.js'),
  ]);
  const journal = Journal.open(resolveJournalPath(opts.journal));
  try {
    const rows = journal.listRuns(last).map((r) => ({ ...r, hosts: runHosts(journal, r.id) }));
    if (opts.json) {
      process.stdout.write(JSON.stringify(rows) + '\n');
    } else if (rows.length === 0) {
      process.stdout.write(`no runs in ${journal.path}\n`);
    } else {
      for (const r of rows) {
        const when = new Date(r.startedAt).toISOString().replace('T', ' ').slice(0, 19);
        const what = r.kind === 'undo' || r.kind === 'resume' ? `of ${r.parentRunId}` : (r.playbook ?? '');
        process.stdout.write(`${r.id}  ${when}  ${r.kind.padEnd(7)} ${r.status.padEnd(12)} ${String(r.hosts.length).padStart(3)} host(s)  ${what}\n`);
      }
    }
    setExitCode(0);
  } finally {
    journal.close();
  }
}

export function registerRuns(program: Command, setExitCode: SetExitCode): void {
  program
    .command('runs')
    .description('List the runs in the journal, newest first')
    .option('--journal <path>', 'journal database (default $ROLLGATE_JOURNAL, else ~/.local/state/rollgate/journal.db)')
    .option('--json', 'print the runs as one JSON array')
    .option('--last <n>', 'how many runs', '50')
    .action((opts: RunsOptions) => listRuns(opts, setExitCode));
}
