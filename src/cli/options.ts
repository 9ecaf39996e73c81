/**
 * Option definitions shared by the commands, declared once: a command adds the groups it takes, so that `run`,
 * `rollout`, `exec`, `check` and `undo` spell, describe and parse the same option the same way. And the guard
 * that keeps an option parser's plain Error a user's mistake (exit 2) instead of "internal error" (exit 70).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ConfigError } from '../core/config-error.js';
import { InternalError } from '../core/internal-error.js';

/** Commander's accumulator for a repeatable option (`-i a -i b`). */
export const collect = (value: string, previous: string[] = []) => [...previous, value];
/** The same for comma-separated lists (`-t a,b -t c`). */
export const collectList = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean),
];

/** A positive number from an option, or a ConfigError naming the option. */
export function positiveNumber(value: string | undefined, option: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new ConfigError([
      {
        message: `${option} is "${value}"`,
        hint: `write ${option} followed by a positive ${integer ? 'whole number' : 'number'}, e.g. ${option} ${integer ? 50 : 30}`,
      },
    ]);
  }
  return n;
}

/** The options every command that picks hosts from an inventory takes. */
export interface HostSelectionOptions {
  inventory: string[];
  limit?: string;
}

/** How a command logs in: read by `sessionTargets` (./session.ts). */
export interface ConnectionOptions {
  sshConfig?: string;
  connectTimeout?: string;
  acceptNewHostKeys?: boolean;
  /** -K: ask for sudo's password once, for every host whose inventory gives none. */
  askBecomePass?: boolean;
  becomePasswordFile?: string;
}

export const inventoryOption = () =>
  new Option('-i, --inventory <source>', 'inventory file, directory or host list (repeatable)')
    .argParser(collect)
    .makeOptionMandatory();

export const limitOption = (description = 'only hosts matching this Ansible pattern') =>
  new Option('-l, --limit <pattern>', description);

export const tagOptions = () => [
  new Option('-t, --tags <tags>', 'only tasks with these tags (comma-separated, repeatable)')
    .argParser(collectList)
    .default([]),
  new Option('--skip-tags <tags>', 'skip tasks with these tags (comma-separated, repeatable)')
    .argParser(collectList)
    .default([]),
];

export const extraVarsOption = (
  description = 'KEY=VALUE, a JSON/YAML mapping, or @FILE (repeatable; highest precedence)',
) => new Option('-e, --extra-vars <vars>', description).argParser(collect).default([]);

export const forksOption = (defaultForks: number, description: string) =>
  new Option('-f, --forks <n>', description).default(String(defaultForks));

export const journalOption = () =>
  new Option(
    '--journal <path>',
    'journal: a SQLite file, or a postgresql:// URL several controllers share (default $ROLLGATE_JOURNAL or ~/.local/state/rollgate/journal.db)',
  );

/**
 * `--ssh-config`, `--connect-timeout`, `--accept-new-host-keys`, and sudo's password (`-K`,
 * `--become-password-file`): how every command that logs in does so.
 */
export const connectionOptions = () => [
  new Option('--connect-timeout <seconds>', 'TCP + SSH handshake budget per host (default: inventory, else 15)'),
  new Option(
    '--accept-new-host-keys',
    'record host keys of hosts seen for the first time in their known_hosts file (a changed key is still refused)',
  ),
  new Option('--ssh-config <file>', 'OpenSSH client config to read (default ~/.ssh/config when it exists)'),
  new Option(
    '-K, --ask-become-pass',
    "ask for the become password: sudo's, or the become user's with su (for hosts whose inventory sets no ansible_become_password)",
  ).conflicts('becomePasswordFile'),
  new Option(
    '--become-password-file <file>',
    'read the become password from this file (stripped), or from what it prints when executable',
  ),
];

/** Add option definitions to a command, in order. */
export function withOptions(command: Command, ...options: Array<Option | Option[]>): Command {
  for (const option of options.flat()) command.addOption(option);
  return command;
}

/**
 * Make every option and argument parser of `program` (and its subcommands) report a plain Error as bad input:
 * commander turns only its InvalidArgumentError into "error: option ... is invalid" (exit 2 here); anything else
 * would reach the top as a bug (exit 70). ConfigError and bugs (InternalError) pass through unchanged.
 */
export function guardParsers(program: Command): void {
  type Parse = NonNullable<Option['parseArg']>;
  const guard =
    (parse: Parse): Parse =>
    (value, previous) => {
      try {
        return parse(value, previous);
      } catch (err) {
        if (err instanceof InvalidArgumentError || err instanceof ConfigError || err instanceof InternalError)
          throw err;
        throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
      }
    };
  const visit = (command: Command) => {
    for (const option of command.options) if (option.parseArg) option.parseArg = guard(option.parseArg);
    for (const argument of command.registeredArguments)
      if (argument.parseArg) argument.parseArg = guard(argument.parseArg);
    command.commands.forEach(visit);
  };
  visit(program);
}
