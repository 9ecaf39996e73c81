/**
 * `rollgate report RUN -o FILE.html`: one self-contained HTML page of a run from the journal alone (timeline,
 * per host verification, before/after diff, IOMMU topology, pre-change findings), for a change review or an
 * incident write-up. Nothing is contacted; the file loads nothing (no script, no font, no remote resource).
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { ConfigError } from '../../core/config-error.js';
import { EXIT } from '../exit-codes.js';
import type { SetExitCode } from './index.js';

export function registerReport(program: Command, setExitCode: SetExitCode): void {
  program
    .command('report')
    .description('Write a self-contained HTML report of a run: timeline, verifications, diffs, IOMMU topology')
    .argument('<run>', 'run id (see `rollgate runs`)')
    .requiredOption('-o, --output <file>', 'HTML file to write (one file: opens offline, e.g. from a mail attachment)')
    .option(
      '--journal <path>',
      'journal: a SQLite file, or a postgresql:// URL several controllers share (default $ROLLGATE_JOURNAL or ~/.local/state/rollgate/journal.db)',
    )
    .addHelpText(
      'after',
      `
The page shows one lane per host on a real time axis (snapshot, change, trial boot, verification, commit,
rollback, needs a person; canary and batch starts; power resets and interruptions), then per host the
verification checks (expected / actual), the pre-change vs post-boot diff, the IOMMU groups as a picture
(vfio-pci highlighted, changes marked) and the pre-change findings with their evidence. Secrets are scrubbed
as in every other output. Exit 0 when written, 2 when the run is not in the journal.
`,
    )
    .action(async (runId: string, opts: { output: string; journal?: string }) => {
      const [{ openJournal }, { buildRunReport }, { renderRunReport }] = await Promise.all([
        import('../journal-open.js'),
        import('../../render/report/report-model.js'),
        import('../../render/report/html.js'),
      ]);
      const journal = openJournal(opts.journal);
      try {
        const report = buildRunReport(journal, runId);
        if (!report)
          throw new ConfigError([
            { message: `no run ${runId} in ${journal.path}`, hint: 'list runs with `rollgate runs`' },
          ]);
        writeFileSync(opts.output, renderRunReport(report), { mode: 0o600 });
        process.stdout.write(`${opts.output}: report of run ${runId} (${report.hosts.length} host(s))\n`);
        setExitCode(EXIT.ok);
      } finally {
        journal.close();
      }
    });
}
