/**
 * Faults between the controller and a real sshd host, for the write-safety tests: a link that loses or changes
 * bytes on their way to the host's stdin, and a host whose PATH lacks a tool or holds a broken one.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from '../../../src/connection/connection.js';
import { raw, ShellFragment } from '../../../src/connection/shell-quote.js';

/** The same connection, but the bytes reaching the host's stdin are what `cut` leaves of them (a lossy link). */
export function lossy(c: Connection, cut: (stdin: Buffer) => Buffer): Connection {
  return {
    host: c.host,
    exec: (command, options = {}) =>
      c.exec(command, options.stdin === undefined ? options : { ...options, stdin: cut(Buffer.from(options.stdin)) }),
    close: () => c.close(),
  };
}

/** The same connection, with PATH on the host set to `path` (shell text: `DIR` lacks tools, `DIR:$PATH` overrides some). */
export function withPath(c: Connection, path: string): Connection {
  return {
    host: c.host,
    exec: (command, options) =>
      c.exec(raw(`PATH=${path}; export PATH\n${command instanceof ShellFragment ? command.text : command}`), options),
    close: () => c.close(),
  };
}

const TOOLS = [
  'cat',
  'chmod',
  'chown',
  'cp',
  'dirname',
  'mkdir',
  'mktemp',
  'mv',
  'rm',
  'rmdir',
  'sha256sum',
  'stat',
  'sync',
  'tr',
  'wc',
  'head',
  'sh',
  'base64',
  'find',
  'grep',
  'sed',
];

/** A bin directory at `bin` holding links to the usual tools except `missing`, plus `extra` scripts by name. */
export function toolDir(bin: string, missing: readonly string[], extra: Record<string, string> = {}): string {
  mkdirSync(bin, { recursive: true });
  for (const t of TOOLS.filter((t) => !missing.includes(t) && !(t in extra))) {
    symlinkSync(execFileSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).trim(), join(bin, t));
  }
  for (const [t, body] of Object.entries(extra)) writeFileSync(join(bin, t), body, { mode: 0o755 });
  return bin;
}

/** A `cp` that copies only the first half of the file and exits 0 (a short copy it did not report: a flaky device). */
export const HALF_CP = `#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done; n=$(wc -c < "$2"); head -c $((n / 2)) "$2" > "$3"\n`;
