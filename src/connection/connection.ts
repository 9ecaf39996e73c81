/**
 * What every module sees of a host: run a command, get one result shape back. Connection-level failures
 * are thrown as ConnectionError with a kind; a command that runs and fails is a normal ExecResult.
 */
import type { ShellFragment } from './shell-quote.js';

/**
 * Why a host could not be used. Taken from ssh2's err.level, our hostVerifier and close without exit status:
 * - unreachable: no TCP connection (refused, no route, DNS) or the jump host could not reach it
 * - auth: the server refused every credential we offered
 * - host_key: its host key is unknown, changed or revoked (never retryable)
 * - timeout: no SSH handshake within the connect timeout, or a command outlived its timeout
 * - dropped: the connection closed under us (before the banner or mid-command)
 * - become: sudo or su did not run the command as the become user (a password wrong or missing, no rights, no su,
 *   no such user); each case has its own message
 * - locked: connected, but the machine behind it is locked by another run, is another host of this run under a
 *   second name, or is not the machine the journal says the run changed (executor/machine-identity.ts)
 */
export type ConnectionFailureKind = 'unreachable' | 'auth' | 'host_key' | 'timeout' | 'dropped' | 'become' | 'locked';

export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  constructor(
    readonly kind: ConnectionFailureKind,
    message: string,
    /** Whether trying again later can help (a refused host key never does). */
    readonly retryable: boolean = kind !== 'host_key' && kind !== 'auth' && kind !== 'become',
  ) {
    super(message);
  }
}

/** The result of one command on one host. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status; null when the command was killed by a signal. */
  exitCode: number | null;
  signal?: string;
  /** Wall time of the command on the open connection, in milliseconds. */
  durationMs: number;
}

export interface ExecOptions {
  /** Kill the command and throw ConnectionError('timeout') after this many milliseconds. Default: none. */
  timeoutMs?: number;
  /** Run as the become user (sudo or su) when the login user is not that user. Default: the host's become setting. */
  become?: boolean;
  /** Bytes written to the command's stdin, then EOF. */
  stdin?: string | Buffer;
}

export interface Connection {
  /** Inventory name of the host. */
  readonly host: string;
  /** Fingerprint of the host key the server proved it holds (SHA256:base64, as ssh-keygen -l); SSH only. */
  readonly hostKeyFingerprint?: string;
  /** Run one shell command (sh -c semantics on the remote side). */
  exec(command: string | ShellFragment, options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}
