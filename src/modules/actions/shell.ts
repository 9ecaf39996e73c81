/**
 * `shell`: run a snippet through the remote shell (pipes, redirections, `&&` work). The operator's text is
 * shell syntax; every `{{ }}` value in it is quoted as one word, so a variable holding `$(...)`, `;` or quotes
 * stays data. Like Ansible's, it does not run in check mode; `creates` / `removes` / `undo` as for `command`.
 */
import type { ActionModule } from '../module.js';
import type { CheckModeSkips } from '../controller-action.js';
import { moduleSpecs } from '../specs.js';
import { checkCommand, runCommand, type RunCommandArgs } from './run-command.js';

export interface ShellArgs extends RunCommandArgs {
  cmd: string;
}

export const shell: ActionModule<ShellArgs, { line: string }> & CheckModeSkips = {
  ...moduleSpecs.shell,
  checkModeSkips: true,
  shellOptions: ['cmd', 'undo'],
  check(ctx, args) {
    return checkCommand(ctx, args.cmd, args);
  },
  apply(ctx, _args, change) {
    return runCommand(ctx, change.line);
  },
};
