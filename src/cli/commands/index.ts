import type { Command } from 'commander';

/** Sets the process exit status once a command has finished. */
export type SetExitCode = (code: number) => void;

type Register = (program: Command, setExitCode: SetExitCode) => void;

/**
 * Every subcommand, by top-level name, in the order `--help` lists them. Each module is imported only when
 * needed: a run of one command loads that command's module alone (ssh2, ajv, the journal, the lab... are
 * each pulled in by the commands that use them), which keeps start-up short. Add one line per command name.
 */
const commands: Record<string, () => Promise<Register>> = {
  inventory: async () => (await import('./inventory.js')).registerInventory,
  exec: async () => (await import('./exec.js')).registerExec,
  run: async () => (await import('./run.js')).registerRun,
  undo: async () => (await import('./undo.js')).registerUndo,
  lab: async () => (await import('./lab.js')).registerLab,
  check: async () => (await import('./check.js')).registerCheck,
  snapshot: async () => (await import('./check.js')).registerCheck,
  facts: async () => (await import('./facts.js')).registerFacts,
  diff: async () => (await import('./diff.js')).registerDiff,
  rollout: async () => (await import('./rollout.js')).registerRollout,
  resume: async () => (await import('./rollout.js')).registerRollout,
  runs: async () => (await import('./runs.js')).registerRuns,
  show: async () => (await import('./runs.js')).registerRuns,
  unlock: async () => (await import('./runs.js')).registerRuns,
  report: async () => (await import('./report.js')).registerReport,
};

/**
 * Register the command named in argv (its first word that is not an option), or every command when there is
 * none or it is not one of ours (`--help`, `help`, a typo commander should suggest a fix for).
 */
export async function registerCommands(
  program: Command,
  setExitCode: SetExitCode,
  argv: readonly string[] = [],
): Promise<void> {
  const named = argv.slice(2).find((a) => !a.startsWith('-'));
  const names = named !== undefined && Object.hasOwn(commands, named) ? [named] : Object.keys(commands);
  const registers = await Promise.all(names.map((name) => commands[name]!()));
  // One module may register several commands (check + snapshot): register each module once.
  for (const register of new Set(registers)) register(program, setExitCode);
}
