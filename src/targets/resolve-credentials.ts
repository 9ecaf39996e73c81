/**
 * Which keys a host is offered: key files named in the inventory (must exist and be usable), else those of
 * ~/.ssh/config (missing ones skipped, as OpenSSH does), else OpenSSH's default files; plus ssh-agent. An
 * encrypted key file is fine when an agent can stand in for it, and an error naming the file when not.
 */
import type { ConfigProblem } from '../core/config-error.js';
import type { Setting } from './connection-vars.js';
import { loadIdentity } from '../connection/identity.js';
import { absolutePath, defaultIdentityFiles, type Resolved } from './resolve-options.js';
import { varProblem, type TargetHost } from './target-vars.js';

export interface Credentials {
  identityFiles: string[];
  /** '' when no agent. */
  agentSocket: string;
}

/** `keyFiles` is what the inventory set (connectionVars), `sshConfigFiles` the IdentityFile lines for the host. */
export function resolveCredentials(
  host: TargetHost,
  o: Resolved,
  keyFiles: Setting<string[]> | undefined,
  sshConfigFiles: string[],
  problems: ConfigProblem[],
): Credentials {
  const agentSocket = o.agentSocket;
  const keyVar = keyFiles
    ? { name: keyFiles.from ?? 'key file', value: keyFiles.value, position: keyFiles.origin }
    : undefined;
  let candidates: string[];
  if (keyVar) {
    candidates = keyVar.value.map((f) => absolutePath(f, o));
    for (const file of candidates) {
      const identity = loadIdentity(file);
      if (identity.status === 'unreadable') {
        const what = identity.reason === 'ENOENT' ? 'does not exist' : `cannot be read (${identity.reason})`;
        problems.push(
          varProblem(
            host,
            keyVar,
            `key file ${file} (${keyVar.name}) ${what}`,
            `write the path of an existing private key, or remove ${keyVar.name} to use ssh-agent and ~/.ssh/config`,
          ),
        );
      } else if (identity.status === 'invalid') {
        problems.push(
          varProblem(
            host,
            keyVar,
            `key file ${file} (${keyVar.name}) ${identity.reason}`,
            'point it at an OpenSSH or PEM private key (not the .pub file)',
          ),
        );
      } else if (identity.status === 'encrypted' && !agentSocket) {
        problems.push(
          varProblem(
            host,
            keyVar,
            `key file ${file} is protected by a passphrase and rollgate does not prompt for one`,
            `load it into ssh-agent (eval $(ssh-agent); ssh-add ${file}) so SSH_AUTH_SOCK is set, then run again`,
          ),
        );
      }
    }
  } else {
    const configured = sshConfigFiles
      .map((f) => absolutePath(f, o))
      .filter((f) => loadIdentity(f).status !== 'unreadable');
    candidates = configured.length > 0 ? configured : defaultIdentityFiles(o);
  }
  const usable = candidates.filter((f) => loadIdentity(f).status === 'ok');
  if (!keyVar && usable.length === 0 && !agentSocket) {
    const encrypted = candidates.filter((f) => loadIdentity(f).status === 'encrypted');
    problems.push(
      varProblem(
        host,
        undefined,
        encrypted.length > 0
          ? `no usable SSH key: ${encrypted.join(', ')} ${encrypted.length > 1 ? 'are' : 'is'} protected by a passphrase and no ssh-agent is running`
          : 'no SSH key to log in with: no key file is set, none of ~/.ssh/id_{ed25519,ecdsa,rsa} exists and SSH_AUTH_SOCK is not set',
        encrypted.length > 0
          ? `load the key into ssh-agent (ssh-add ${encrypted[0]}) and run again`
          : 'set ansible_ssh_private_key_file: for the host or its group, or start ssh-agent',
      ),
    );
  }
  return { identityFiles: candidates, agentSocket };
}
