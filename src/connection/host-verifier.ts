/**
 * Strict host key checking for one connection attempt: which host key algorithms to ask for, the ssh2
 * hostVerifier, and the refusal (a ConnectionError of kind host_key) when the key is unknown, changed or revoked.
 * Under accept-new an unknown key is recorded only once the key exchange has completed (the server proved it
 * holds the key); a changed key is refused under every policy. ssh2 negotiates plain host keys only (no
 * `*-cert-v01@openssh.com` algorithms), so a host covered by `@cert-authority` cannot prove itself with its
 * certificate: it is refused unless its plain key is recorded, and accept-new never records a key for it.
 */
import { ConnectionError } from './connection.js';
import { knownHostsName, preferredHostKeyAlgorithms, verifyHostKey } from './known-hosts.js';
import type { KnownHostsStore } from './known-hosts-store.js';
import type { SshTarget } from './target.js';

export interface HostKeyCheck {
  /** Algorithms to ask for first (those already recorded for this host). */
  preferredAlgorithms: string[];
  /** For ssh2's `hostVerifier`: true accepts the key. */
  verify(keyBlob: Buffer): boolean;
  /** Why the key was refused, once verify returned false. */
  refusal(): ConnectionError | undefined;
  /** Call after the handshake: records a key accepted under accept-new. */
  commit(): void;
}

/** Key type and base64 blob of an SSH wire-format public key. */
export function describeKeyBlob(blob: Buffer): { type: string; key: string } {
  const len = blob.readUInt32BE(0);
  return { type: blob.subarray(4, 4 + len).toString('ascii'), key: blob.toString('base64') };
}

export function checkHostKey(target: SshTarget, store: KnownHostsStore): HostKeyCheck {
  const name = knownHostsName(target.address, target.port);
  const files = target.knownHostsFiles;
  const known = store.keysFor(files, name);
  const where = files.join(', ') || '(no known_hosts file)';
  let refusal: ConnectionError | undefined;
  let pending: { type: string; key: string } | undefined;
  const refuse = (message: string): false => {
    refusal = new ConnectionError('host_key', `${target.name}: ${message}`);
    return false;
  };
  return {
    preferredAlgorithms: preferredHostKeyAlgorithms(known),
    refusal: () => refusal,
    verify(keyBlob) {
      const presented = describeKeyBlob(keyBlob);
      const verdict = verifyHostKey(known, presented);
      switch (verdict.status) {
        case 'match':
          return true;
        case 'unknown':
          if (target.hostKeyPolicy === 'accept-new' && files[0]) {
            pending = presented;
            return true;
          }
          return refuse(
            `host key for ${name} is not known (${presented.type}); refusing to connect. Check the key out of band ` +
              `and add it to ${files[0] ?? '~/.ssh/known_hosts'} (ssh-keyscan -p ${target.port} ${target.address}), ` +
              `or run with --accept-new-host-keys to record keys of hosts seen for the first time`,
          );
        case 'cert-authority': {
          const lines = known.filter((k) => k.certAuthority && !k.revoked).map((k) => `${k.file}:${k.line}`);
          return refuse(
            `host ${name} is covered by @cert-authority at ${lines.join(', ')}, but rollgate cannot check host ` +
              `certificates (its SSH library negotiates plain host keys only); refusing to connect and recording no key. ` +
              `Check the host's plain ${presented.type} key out of band and add it to ${files[0] ?? '~/.ssh/known_hosts'} ` +
              `(ssh-keyscan -p ${target.port} ${target.address})`,
          );
        }
        case 'revoked':
          return refuse(
            `host key for ${name} is marked @revoked in ${where} (line ${verdict.line}); refusing to connect`,
          );
        case 'changed': {
          const entries = known.filter((k) => !k.revoked).map((k) => `${k.file}:${k.line}`);
          const types = verdict.knownTypes.includes(presented.type)
            ? `the ${presented.type} key offered differs from the one recorded`
            : `it offered only ${presented.type} while ${verdict.knownTypes.join(', ')} is recorded`;
          return refuse(
            `HOST KEY CHANGED for ${name}: ${types} at ${entries.join(', ')}; refusing to connect (possible ` +
              `man-in-the-middle). If the host was really reinstalled, remove the old entry with ` +
              `ssh-keygen -R '${name}' -f ${known[0]?.file ?? '~/.ssh/known_hosts'} and verify the new key`,
          );
        }
      }
    },
    commit() {
      if (pending && files[0]) store.append(files[0], name, pending.type, pending.key);
      pending = undefined;
    },
  };
}
