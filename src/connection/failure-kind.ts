/**
 * Turning what ssh2 reports while connecting into a ConnectionError kind. The kind comes from ssh2's
 * `err.level` and the socket's errno `code`, never from message text; the message only adds detail.
 */
import { ConnectionError } from './connection.js';
import type { SshTarget } from './target.js';

/** The fields of an ssh2 or socket error we classify on. */
export interface Ssh2Error extends Error {
  level?: string;
  code?: string;
}

/** Socket errors that mean the peer went away after answering, not that it could not be reached. */
const DROPPED_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export function classifyConnectError(err: Ssh2Error, target: SshTarget, offered: string): ConnectionError {
  const where = `${target.address}:${target.port}`;
  const budget = target.connectTimeoutMs ?? 15_000;
  switch (err.level) {
    case 'client-authentication':
      return new ConnectionError(
        'auth',
        `${target.name}: the server refused every credential for user ${target.user} (offered: ${offered}). ` +
          `Check the user (ansible_user) and that the key is in its authorized_keys`,
      );
    case 'client-timeout':
      return new ConnectionError('timeout', `${target.name}: no SSH handshake from ${where} within ${budget} ms`);
    case 'client-dns':
      return new ConnectionError('unreachable', `${target.name}: cannot resolve ${target.address}`);
    case 'protocol':
      // ssh2: "Connection lost before handshake": TCP was accepted, then closed before the SSH banner.
      return new ConnectionError('dropped', `${target.name}: ${where} closed the connection before the SSH banner`);
    case 'handshake':
      return new ConnectionError(
        'unreachable',
        `${target.name}: SSH key exchange with ${where} failed: ${err.message}`,
      );
    case 'client-socket':
    default:
      if (err.code && DROPPED_CODES.has(err.code)) {
        return new ConnectionError(
          'dropped',
          `${target.name}: ${where} reset the connection during the handshake (${err.code})`,
        );
      }
      if (err.code === 'ETIMEDOUT') {
        return new ConnectionError('timeout', `${target.name}: TCP connect to ${where} timed out`);
      }
      return new ConnectionError(
        'unreachable',
        `${target.name}: cannot connect to ${where} (${err.code ?? err.message})`,
      );
  }
}
