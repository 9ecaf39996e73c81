/**
 * Ad-hoc commands (`rollgate exec`, like `ansible -m raw`): one shell command on every target, over the fleet
 * runner. Each host's output is emitted as a command.output event; a non-zero exit status or a signal makes the
 * host `failed` (kind `command`).
 */
import type { ExecResult } from '../connection/connection.js';
import type { ShellFragment } from '../connection/shell-quote.js';
import type { SshTarget } from '../connection/target.js';
import type { EventBus } from '../events/events.js';
import { runOnFleet, type HostOutcome } from './fleet.js';

export interface AdHocOptions {
  bus?: EventBus;
  /** Hosts at once. Default 50. */
  forks?: number;
  /** Per-command timeout in milliseconds. Default none. */
  timeoutMs?: number;
}

/** Why a finished command counts as failed, or undefined when it succeeded. */
export function commandFailure(result: ExecResult): string | undefined {
  if (result.signal) return `killed by signal ${result.signal}`;
  if (result.exitCode !== 0) return `exit status ${result.exitCode}`;
  return undefined;
}

export function runAdHoc(
  targets: readonly SshTarget[],
  command: string | ShellFragment,
  options: AdHocOptions = {},
): Promise<HostOutcome<ExecResult>[]> {
  const { bus } = options;
  return runOnFleet(
    targets,
    async (conn) => {
      const result = await conn.exec(command, options.timeoutMs ? { timeoutMs: options.timeoutMs } : {});
      bus?.emit({
        type: 'command.output',
        at: Date.now(),
        host: conn.host,
        stdout: result.stdout,
        stderr: result.stderr,
        exitCode: result.exitCode,
        ...(result.signal ? { signal: result.signal } : {}),
      });
      return result;
    },
    { failed: commandFailure, ...(bus ? { bus } : {}), ...(options.forks ? { forks: options.forks } : {}) },
  );
}
