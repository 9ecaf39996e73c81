/**
 * What one command says over its channel, and how its result is read back, depending on how privilege is gained:
 * directly or through `sudo -n` (a plain dialog: input sent at once, output as it comes), `sudo -S` with a password
 * (become-sudo.ts) or `su` (become-su.ts). The channel itself (timeouts, signals, a drop) is remote-exec.ts's;
 * a dialog sees only the bytes and the exit, and answers with the command's result or why become failed.
 */
import type { ConnectionError, ExecResult } from './connection.js';

/** How a dialog talks back to the channel. */
export interface DialogIo {
  write(data: string | Buffer): void;
  /** Send `data` (if any), then EOF. */
  end(data?: string | Buffer): void;
  /** Stop the command: the channel is closed and the run rejects with `error`. */
  fail(error: ConnectionError): void;
}

/** How the remote command ended: exit status, or the signal that killed it. */
export interface ChannelExit {
  code: number | null;
  signal?: string;
}

/** One command's conversation; made per command (it keeps the bytes seen so far). */
export interface BecomeDialog {
  /** The command line sent over the channel. */
  readonly command: string;
  /** Whether a failure may be `sudo -n`'s own refusal, which only asking sudo alone can tell. */
  readonly sudoNonInteractive: boolean;
  /** The channel is open: send what goes first. */
  start(io: DialogIo): void;
  stdout(chunk: Buffer, io: DialogIo): void;
  stderr(chunk: Buffer, io: DialogIo): void;
  /** The channel closed with an exit status: the command's result, or why become failed. */
  finish(exit: ChannelExit, durationMs: number): ExecResult | ConnectionError;
}

/** The result shape from collected output. */
export function execResult(stdout: Buffer | string, stderr: string, exit: ChannelExit, durationMs: number): ExecResult {
  const result: ExecResult = {
    stdout: typeof stdout === 'string' ? stdout : stdout.toString('utf8'),
    stderr,
    exitCode: exit.code,
    durationMs,
  };
  if (exit.signal) result.signal = exit.signal;
  return result;
}

/** A command run as the login user, or under `sudo -n` (which never asks): input at once, output as it comes. */
export function plainDialog(
  command: string,
  stdin: string | Buffer | undefined,
  sudoNonInteractive: boolean,
): BecomeDialog {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  return {
    command,
    sudoNonInteractive,
    start: (io) => io.end(stdin),
    stdout: (chunk) => void out.push(chunk),
    stderr: (chunk) => void err.push(chunk),
    finish: (exit, ms) => execResult(Buffer.concat(out), Buffer.concat(err).toString('utf8'), exit, ms),
  };
}

/** A random token of letters and digits, to make a prompt or a marker unique to one command. */
export function dialogToken(bytes: Buffer): string {
  return bytes.toString('base64url').replace(/[^A-Za-z0-9]/g, 'x');
}
