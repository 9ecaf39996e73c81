/**
 * The CLI: the only code that prints plain text or sets the exit code. Each command lives in its own file
 * under src/cli/commands/ and registers itself on the program.
 */
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.js';
import { addVaultOptions } from './vault-options.js';
import { addFleetLockOption } from './fleet-lock-option.js';
import { ConfigError } from '../core/config-error.js';
import { EXIT, EXIT_HELP } from './exit-codes.js';
import { JournalBusyError } from '../journal/journal-busy.js';
import { DatabaseLostError } from '../journal/database-lost.js';
import { runsInHand } from './journal-open.js';
import { guardParsers } from './options.js';

/** How commands are added to the program (tests pass their own). */
export type RegisterCommands = typeof registerCommands;

export async function main(argv: string[], register: RegisterCommands = registerCommands): Promise<number> {
  const program = new Command();
  program
    .name('rollgate')
    .description('Check, change and roll out Linux KVM/VFIO hypervisors over SSH, with automatic rollback.')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    // Each command's --help also lists the program's options it takes (vault passwords, --fleet-lock).
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', `\n${EXIT_HELP}\n`);
  addVaultOptions(program);
  addFleetLockOption(program);
  let exitCode = 0;
  await register(
    program,
    (code) => {
      exitCode = code;
    },
    argv,
  );
  // A plain Error from an option parser is the operator's mistake (exit 2), not a bug (exit 70).
  guardParsers(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      return EXIT.badInput;
    }
    if (err instanceof JournalBusyError) {
      // Not a bug: another process kept the journal; the run stopped where its journal last recorded it.
      process.stderr.write(`rollgate: ${err.message}\n`);
      return EXIT.failed;
    }
    if (err instanceof DatabaseLostError) {
      process.stderr.write(`rollgate: ${err.message}\n${lostAdvice(runsInHand())}\n`);
      return EXIT.databaseLost;
    }
    throw err;
  }
  return exitCode;
}

/** What to do once the server is back (a lost database stopped the command before its next change). */
function lostAdvice(runs: readonly string[]): string {
  const stopped =
    'the command stopped before its next change (every change so far was journaled with its undo record before it was applied)';
  const next = runs.map(
    (id) =>
      `\`rollgate resume ${id}\` finishes the rollout or rolls it back, \`rollgate undo ${id}\` takes back what run ${id} changed`,
  );
  return `${stopped}; once the server is back, from this or any controller sharing the journal: ${next.length ? next.join('; ') : '`rollgate runs` shows where each run stopped'}`;
}
