/**
 * `command`: run one program with arguments, no shell (pipes, redirections and `$VAR` stay literal words).
 * `cmd` is split like Python's shlex; every `{{ }}` value stays one argument whatever it contains, and each
 * argument is quoted for the remote shell. Like Ansible's, it does not run in check mode; `creates` / `removes`
 * make it idempotent and `undo` makes it reversible.
 */
import { quote } from '../../connection/shell-quote.js';
import { defineHostModule, type ArgsOf } from '../define-module.js';
import { stringList } from '../option-schemas.js';
import { checkCommand, runCommand } from './run-command.js';

/** The options, as the schema below describes them. */
export type CommandArgs = ArgsOf<typeof command.options>;

export const command = defineHostModule({
  name: 'command',
  description: 'Run a command (argv, no shell). Not reversible unless `undo` is given.',
  changesHost: true,
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      cmd: { type: 'string' },
      argv: stringList,
      creates: { type: 'string' },
      removes: { type: 'string' },
      undo: {
        type: 'string',
        description:
          'command that reverses this one, journaled before it runs; undo runs it only if this command succeeded',
      },
    },
    oneOf: [{ required: ['cmd'] }, { required: ['argv'] }],
  },
  checkModeSkips: true,
  shellOptions: ['cmd', 'undo'],
  check(ctx, args) {
    const line = args.argv ? args.argv.map(quote).join(' ') : (args.cmd ?? '');
    return checkCommand(ctx, line, args);
  },
  apply(ctx, _args, change) {
    return runCommand(ctx, change.line);
  },
});
