/**
 * `become:` on a play, block or task: the connection's commands run through `sudo -n` (or not) whatever the
 * inventory's default, unless a module asks for something else explicitly.
 */
import type { Connection, ExecOptions } from '../connection/connection.js';
import type { ShellFragment } from '../connection/shell-quote.js';

export function withBecome(conn: Connection, become: boolean | undefined): Connection {
  if (become === undefined) return conn;
  return {
    host: conn.host,
    exec: (command: string | ShellFragment, options: ExecOptions = {}) => conn.exec(command, { become, ...options }),
    close: () => conn.close(),
  };
}
