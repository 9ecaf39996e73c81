import type { Command } from 'commander';
import { registerExec } from './exec.js';
import { registerInventory } from './inventory.js';
import { registerLab } from './lab.js';
import { registerRun } from './run.js';
import { registerUndo } from './undo.js';
import { registerFacts } from './facts.js';
import { registerDiff } from './diff.js';
import { registerCheck } from './check.js';
import { registerRollout } from './rollout.js';
import { registerRuns } from './runs.js';

/** Sets the process exit status once a command has finished. */
export type SetExitCode = (code: number) => void;

/** Every subcommand, registered in the order `--help` lists them. */
export function registerCommands(program: Command, setExitCode: SetExitCode): void {
  registerInventory(program, setExitCode);
  registerExec(program, setExitCode);
  registerRun(program, setExitCode);
  registerUndo(program, setExitCode);
  registerLab(program, setExitCode);
  registerFacts(program, setExitCode);
  registerDiff(program, setExitCode);
  registerCheck(program, setExitCode);
  registerRollout(program, setExitCode);
  registerRuns(program, setExitCode);
}
