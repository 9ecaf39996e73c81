/** `rollgate diff BEFORE.json AFTER.json [--json]`: what changed between two snapshots; exit 1 on a regression. */
import type { Command } from 'commander';
import { ConfigError } from '../../core/config-error.js';
import { readInputFile } from '../../load/input-file.js';
import { diffSnapshots } from '../../modules/facts/diff.js';
import type { HostSnapshot } from '../../modules/facts/snapshot.js';
import type { SetExitCode } from './index.js';

function loadSnapshot(file: string): HostSnapshot {
  const text = readInputFile(file, `snapshot ${file}`); // a regular file of at most 8 MiB
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([
      {
        message: `cannot read snapshot ${file}: ${(err as Error).message}`,
        hint: 'give a JSON file written by `rollgate snapshot`',
      },
    ]);
  }
  const s = data as Partial<HostSnapshot>;
  if (!s || s.schemaVersion !== 1 || typeof s.host !== 'string') {
    throw new ConfigError([
      {
        message: `${file} is not a rollgate snapshot (schemaVersion 1)`,
        hint: 'give a JSON file written by `rollgate snapshot`',
      },
    ]);
  }
  return s as HostSnapshot;
}

const MARK = { regression: '!', change: '~', improvement: '+' } as const;

export function registerDiff(program: Command, setExitCode: SetExitCode): void {
  program
    .command('diff')
    .description('Show what changed between two snapshots of a host (exit status 1 when anything regressed)')
    .argument('<before>', 'snapshot JSON taken before')
    .argument('<after>', 'snapshot JSON taken after')
    .option('--json', 'print the diff as JSON')
    .action((beforeFile: string, afterFile: string, opts: { json?: boolean }) => {
      const d = diffSnapshots(loadSnapshot(beforeFile), loadSnapshot(afterFile));
      if (opts.json) process.stdout.write(JSON.stringify(d, null, 2) + '\n');
      else {
        const lines = [
          `${d.host}: ${d.rebooted === null ? 'boot unknown' : d.rebooted ? 'rebooted' : 'same boot'}, ${d.changes.length} change(s), ${d.regressions} regression(s)`,
        ];
        for (const c of d.changes) lines.push(`  ${MARK[c.impact]} ${c.message}`);
        process.stdout.write(lines.join('\n') + '\n');
      }
      setExitCode(d.regressions ? 1 : 0);
    });
}
