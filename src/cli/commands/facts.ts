/** `rollgate facts parse KIND FILE [--json]`: parse one saved output offline (no host is contacted). */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { dump } from 'js-yaml';
import { ConfigError } from '../../core/config-error.js';
import { findParseKind, parseKinds } from '../../modules/facts/parse-kinds.js';
import type { SetExitCode } from './index.js';

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new ConfigError([
      {
        message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        hint: 'give the path of a saved command output, or - for standard input',
      },
    ]);
  }
}

export function registerFacts(program: Command, setExitCode: SetExitCode): void {
  const facts = program.command('facts').description('Work with host facts offline');
  facts
    .command('parse')
    .description(`Parse a saved command output into facts. Kinds: ${Object.keys(parseKinds).join(', ')}`)
    .argument('<kind>', 'which output it is (see the list above)')
    .argument('<file>', 'file holding the output, - for standard input')
    .option('--json', 'print JSON instead of YAML')
    .action((kind: string, file: string, opts: { json?: boolean }) => {
      const parser = findParseKind(kind);
      if (!parser) {
        throw new ConfigError([
          { message: `unknown kind "${kind}"`, hint: `use one of: ${Object.keys(parseKinds).join(', ')}` },
        ]);
      }
      const result = parser.parse(readInput(file));
      if (!opts.json && parser.summarize) process.stdout.write(parser.summarize(result as never).join('\n') + '\n\n');
      process.stdout.write(
        opts.json ? JSON.stringify(result, null, 2) + '\n' : dump(result, { lineWidth: 160, noRefs: true }),
      );
      setExitCode(0);
    });
}
