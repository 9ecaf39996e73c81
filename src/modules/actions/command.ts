/**
 * `command`: run one program with arguments, no shell (pipes, redirections and `$VAR` stay literal words).
 * `cmd` is split like Python's shlex; every `{{ }}` value stays one argument whatever it contains, and each
 * argument is quoted for the remote shell. Like Ansible's, it does not run in check mode; `creates` / `removes`
 * make it idempotent and `undo` makes it reversible.
 */
import { quote } from '../../connection/shell-quote.js';
import type { ActionModule } from '../module.js';
import type { CheckModeSkips } from '../controller-action.js';
import { moduleSpecs } from '../specs.js';
import { checkCommand, runCommand, type RunCommandArgs } from './run-command.js';

export interface CommandArgs extends RunCommandArgs {
  /** Already rendered by the executor into quoted shell words (see shellOptions). */
  cmd?: string;
  argv?: string[];
}

export const command: ActionModule<CommandArgs, { line: string }> & CheckModeSkips = {
  ...moduleSpecs.command,
  checkModeSkips: true,
  shellOptions: ['cmd', 'undo'],
  check(ctx, args) {
    const line = args.argv ? args.argv.map(quote).join(' ') : (args.cmd ?? '');
    return checkCommand(ctx, line, args);
  },
  apply(ctx, _args, change) {
    return runCommand(ctx, change.line);
  },
};
