/**
 * `shell`: run a snippet through the remote shell (pipes, redirections, `&&` work). The operator's text is
 * shell syntax; every `{{ }}` value in it is quoted as one word, so a variable holding `$(...)`, `;` or quotes
 * stays data. Like Ansible's, it does not run in check mode; `creates` / `removes` / `undo` as for `command`.
 */
import { defineHostModule, type ArgsOf } from '../define-module.js';
import { checkCommand, runCommand } from './run-command.js';

/** The options, as the schema below describes them. */
export type ShellArgs = ArgsOf<typeof shell.options>;

export const shell = defineHostModule({
  name: 'shell',
  description: 'Run a shell snippet. Not reversible unless `undo` is given.',
  changesHost: true,
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['cmd'],
    properties: {
      cmd: { type: 'string' },
      creates: { type: 'string' },
      removes: { type: 'string' },
      undo: {
        type: 'string',
        description:
          'shell snippet that reverses this one, journaled before it runs; undo runs it only if this one succeeded',
      },
    },
  },
  checkModeSkips: true,
  shellOptions: ['cmd', 'undo'],
  check(ctx, args) {
    return checkCommand(ctx, args.cmd, args);
  },
  apply(ctx, _args, change) {
    return runCommand(ctx, change.line);
  },
});
