import type { BecomePassword } from './become-password.js';

/** Everything needed to open one SSH connection, resolved from inventory vars and ~/.ssh/config. */
export interface SshTarget {
  /** Inventory host name (used in messages and events). */
  name: string;
  /** Address to connect to (ansible_host / HostName), defaults to name. */
  address: string;
  /** Default 22. */
  port: number;
  /** Login user. */
  user: string;
  /** Private key files to try, in order (ansible_ssh_private_key_file / IdentityFile). */
  identityFiles: string[];
  /** ssh-agent socket; defaults to SSH_AUTH_SOCK when unset. */
  agentSocket?: string;
  /** known_hosts files to check the host key against; the first is where accept-new appends. */
  knownHostsFiles: string[];
  /** strict (default) refuses unknown keys; accept-new records an unknown key, still refuses a changed one. */
  hostKeyPolicy: 'strict' | 'accept-new';
  /** Bastion to tunnel through (ProxyJump), itself fully resolved. */
  proxyJump?: SshTarget;
  /** Run commands as the become user (through sudo or su) when user is not the become user. */
  become: boolean;
  /** User to become (ansible_become_user). Default root. */
  becomeUser?: string;
  /** How (ansible_become_method). Default sudo. */
  becomeMethod?: 'sudo' | 'su';
  /** su's program (ansible_become_exe, su only). Default `su`. */
  becomeExe?: string;
  /** Words put before the user on su's command line (ansible_become_flags split as sh does, su only). */
  becomeFlags?: string[];
  /**
   * The become password: sudo's (`sudo -S`, on standard input when sudo asks; none: `sudo -n`, never a prompt), or
   * the become user's for su (typed at su's prompt on a terminal of its own).
   */
  becomePassword?: BecomePassword;
  /** TCP + SSH handshake budget, in milliseconds. Default 15000. */
  connectTimeoutMs?: number;
  /** Interval between keepalive probes, in milliseconds. Default 5000; 3 missed probes drop the connection. */
  keepaliveIntervalMs?: number;
}
