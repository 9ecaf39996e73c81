/**
 * `become:` on a play, block or task: the connection's commands run through `sudo -n` (or not) whatever the
 * inventory's default, unless a module asks for something else explicitly. A task's `timeout:` becomes every
 * command's default timeout the same way.
 */
import type { Connection, ExecOptions } from '../connection/connection.js';
import type { ShellFragment } from '../connection/shell-quote.js';

export function withBecome(conn: Connection, become: boolean | undefined, timeoutMs?: number): Connection {
  if (become === undefined && timeoutMs === undefined) return conn;
  const defaults: ExecOptions = {
    ...(become !== undefined ? { become } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
  return {
    host: conn.host,
    exec: (command: string | ShellFragment, options: ExecOptions = {}) =>
      conn.exec(command, { ...defaults, ...options }),
    close: () => conn.close(),
  };
}
