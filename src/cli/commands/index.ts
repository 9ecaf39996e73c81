import type { Command } from 'commander';
import { registerInventory } from './inventory.js';
import { registerRollout } from './rollout.js';
import { registerLab } from './lab.js';

/** Sets the process exit status once a command has finished. */
export type SetExitCode = (code: number) => void;

/** Every subcommand, registered in the order `--help` lists them. */
export function registerCommands(program: Command, setExitCode: SetExitCode): void {
  registerInventory(program, setExitCode);
  registerRollout(program, setExitCode);
  registerLab(program, setExitCode);
}
