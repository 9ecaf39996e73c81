import type { Command } from 'commander';
import { registerFacts } from './facts.js';
import { registerDiff } from './diff.js';

/** Sets the process exit status once a command has finished. */
export type SetExitCode = (code: number) => void;

/** Every subcommand, registered in the order `--help` lists them. */
export function registerCommands(program: Command, setExitCode: SetExitCode): void {
  registerFacts(program, setExitCode);
  registerDiff(program, setExitCode);
}
