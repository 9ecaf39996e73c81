/**
 * What we offer the server, in order: the key files named for the host (inventory, then ~/.ssh/config, then
 * OpenSSH's default files), then every key in ssh-agent. Encrypted key files are skipped here (resolveTarget
 * already refused them when no agent could stand in); nothing secret reaches a message.
 */
import type { AgentAuthMethod, AuthHandlerMiddleware, PublicKeyAuthMethod } from 'ssh2';
import { loadIdentity } from './identity.js';
import type { SshTarget } from './target.js';

export interface AuthPlan {
  /** For ssh2's `authHandler`: hands out the next method, then false when none is left. */
  handler: AuthHandlerMiddleware;
  /** What was offered, for the auth failure message, e.g. "key /root/.ssh/id_ed25519, ssh-agent". */
  describe(): string;
}

/** The agent socket to use: the target's own, else SSH_AUTH_SOCK; '' means "no agent". */
export function agentSocketFor(target: SshTarget): string | undefined {
  const socket = target.agentSocket ?? process.env.SSH_AUTH_SOCK;
  return socket ? socket : undefined;
}

export function planAuth(target: SshTarget): AuthPlan {
  const methods: Array<PublicKeyAuthMethod | AgentAuthMethod> = [];
  const offered: string[] = [];
  const skipped: string[] = [];
  for (const file of target.identityFiles) {
    const identity = loadIdentity(file);
    if (identity.status === 'ok') {
      methods.push({ type: 'publickey', username: target.user, key: identity.key });
      offered.push(`key ${file}`);
    } else {
      skipped.push(`${file} (${identity.status === 'encrypted' ? 'encrypted' : identity.reason})`);
    }
  }
  const agent = agentSocketFor(target);
  if (agent) {
    methods.push({ type: 'agent', username: target.user, agent });
    offered.push('ssh-agent');
  }
  const queue = [...methods];
  return {
    handler: (_left, _partial, next) => {
      const method = queue.shift();
      next(method ?? (false as never));
    },
    describe: () =>
      [
        offered.length ? offered.join(', ') : 'no usable key and no ssh-agent',
        skipped.length ? `skipped ${skipped.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; '),
  };
}
