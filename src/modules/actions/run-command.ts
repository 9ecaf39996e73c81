/**
 * What `command` and `shell` share: `creates` / `removes` decide whether the command needs to run (checked on the
 * host, under rollgate_root), the preview names the exact command line, the undo is the `undo` command (journaled
 * before the command runs; a reversal, so undo runs it only for a command that succeeded), and the result carries
 * rc / stdout / stderr like Ansible's. A non-zero exit status is reported through `failed` in the data so
 * `failed_when` can still judge it.
 */
import { sh } from '../../connection/shell-quote.js';
import type { CheckOutcome, ModuleContext } from '../module.js';
import { hostRootFromVars } from '../host-root.js';

export interface RunCommandArgs {
  creates?: string;
  removes?: string;
  undo?: string;
}

async function exists(ctx: ModuleContext, path: string): Promise<boolean> {
  const r = await ctx.conn.exec(sh`test -e ${hostRootFromVars(ctx.vars).path(path)}`);
  return r.exitCode === 0;
}

/** Decide whether `line` must run, and with which undo. */
export async function checkCommand(
  ctx: ModuleContext,
  line: string,
  args: RunCommandArgs,
): Promise<CheckOutcome<{ line: string }>> {
  if (args.creates !== undefined && (await exists(ctx, args.creates)))
    return { status: 'no_change', reason: `${args.creates} exists` };
  if (args.removes !== undefined && !(await exists(ctx, args.removes)))
    return { status: 'no_change', reason: `${args.removes} does not exist` };
  return {
    status: 'change',
    change: { line },
    preview: { summary: `run: ${line}`, files: [], commands: [line] },
    undo: { files: [], rebuild: [], reverse: args.undo ? [args.undo] : [] },
  };
}

const lines = (text: string) => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));

/** Run the line; the registered result of Ansible's command module. */
export async function runCommand(
  ctx: ModuleContext,
  line: string,
): Promise<{ message: string; data: Record<string, unknown> }> {
  const start = Date.now();
  const r = await ctx.conn.exec(line);
  const rc = r.exitCode;
  const data: Record<string, unknown> = {
    cmd: line,
    rc,
    stdout: r.stdout.replace(/\n$/, ''),
    stderr: r.stderr.replace(/\n$/, ''),
    stdout_lines: lines(r.stdout),
    stderr_lines: lines(r.stderr),
    delta_ms: Date.now() - start,
  };
  if (rc !== 0) {
    data.failed = true;
    data.msg = r.signal ? `killed by signal ${r.signal}` : `non-zero return code ${rc}`;
  }
  return { message: rc === 0 ? `rc=0` : String(data.msg), data };
}
