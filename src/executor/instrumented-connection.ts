/**
 * A Connection that reports each command on the event bus (command.started / command.finished). Command text
 * in events is cut to a first line of at most 200 characters: enough to recognise it, and stdin (where
 * file contents travel) never appears.
 */
import type { Connection, ExecOptions, ExecResult } from '../connection/connection.js';
import { ShellFragment } from '../connection/shell-quote.js';
import type { EventBus } from '../events/events.js';

/** The label events carry for a command. */
export function commandLabel(command: string | ShellFragment): string {
  const text = command instanceof ShellFragment ? command.text : command;
  const first = text.split('\n', 1)[0] ?? '';
  const cut = first.length > 200 ? `${first.slice(0, 199)}…` : first;
  return cut.length < text.length && !cut.endsWith('…') ? `${cut} …` : cut;
}

export function instrument(conn: Connection, bus: EventBus): Connection {
  return {
    host: conn.host,
    get hostKeyFingerprint() {
      return conn.hostKeyFingerprint;
    },
    async exec(command: string | ShellFragment, options?: ExecOptions): Promise<ExecResult> {
      const label = commandLabel(command);
      bus.emit({ type: 'command.started', at: Date.now(), host: conn.host, command: label });
      const result = await conn.exec(command, options);
      bus.emit({
        type: 'command.finished',
        at: Date.now(),
        host: conn.host,
        exitCode: result.exitCode,
        ms: result.durationMs,
      });
      return result;
    },
    close: () => conn.close(),
  };
}
