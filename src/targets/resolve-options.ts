/**
 * Settings shared by every target of a run (CLI flags and the operator's environment), and the small path
 * helpers target resolution needs. Relative paths resolve against the working directory, as Ansible does.
 */
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { BecomePassword } from '../connection/become-password.js';
import type { SshConfigFile } from './ssh-config.js';

export interface ResolveOptions {
  /** Parsed ~/.ssh/config or --ssh-config FILE; none when absent. */
  sshConfig?: SshConfigFile;
  /** --become: run every command through sudo -n, whatever the inventory says. Default: inventory's. */
  become?: boolean;
  /** --accept-new-host-keys: record unknown host keys (changed keys are still refused). Default false. */
  acceptNewHostKeys?: boolean;
  /** --connect-timeout, in milliseconds. Default: inventory's, else 15000. */
  connectTimeoutMs?: number;
  /** ssh-agent socket. Default SSH_AUTH_SOCK; '' means none. */
  agentSocket?: string;
  /** Home directory for `~` and the default files. Default os.homedir(). */
  home?: string;
  /** Login user when neither inventory nor ssh config names one. Default: the local user. */
  localUser?: string;
  /** Read after the user's files, never written. Default ['/etc/ssh/ssh_known_hosts']. */
  globalKnownHostsFiles?: string[];
  /** Base for relative paths. Default process.cwd(). */
  cwd?: string;
  /** --ask-become-pass / --become-password-file: sudo's password for hosts whose inventory gives none. */
  becomePassword?: BecomePassword;
  /** Where `rollgate_become_password_env` names are looked up. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** ResolveOptions with every default filled in. */
export interface Resolved {
  sshConfig: SshConfigFile | undefined;
  become: boolean | undefined;
  acceptNew: boolean;
  connectTimeoutMs: number | undefined;
  agentSocket: string;
  home: string;
  localUser: string;
  globalKnownHostsFiles: string[];
  cwd: string;
  becomePassword: BecomePassword | undefined;
  env: NodeJS.ProcessEnv;
}

export function withDefaults(opts: ResolveOptions): Resolved {
  return {
    sshConfig: opts.sshConfig,
    become: opts.become,
    acceptNew: opts.acceptNewHostKeys ?? false,
    connectTimeoutMs: opts.connectTimeoutMs,
    agentSocket: opts.agentSocket ?? process.env.SSH_AUTH_SOCK ?? '',
    home: opts.home ?? homedir(),
    localUser: opts.localUser ?? userInfo().username,
    globalKnownHostsFiles: opts.globalKnownHostsFiles ?? ['/etc/ssh/ssh_known_hosts'],
    cwd: opts.cwd ?? process.cwd(),
    becomePassword: opts.becomePassword,
    env: opts.env ?? process.env,
  };
}

/** `~/x` against home, relative paths against cwd. */
export function absolutePath(path: string, o: Resolved): string {
  if (path === '~') return o.home;
  if (path.startsWith('~/')) return join(o.home, path.slice(2));
  return isAbsolute(path) ? path : resolve(o.cwd, path);
}

/** OpenSSH's default identity files that exist, in its order. */
export function defaultIdentityFiles(o: Resolved): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(o.home, '.ssh', f)).filter((f) => existsSync(f));
}

/** OpenSSH's default user known_hosts file. */
export function defaultKnownHostsFile(o: Resolved): string {
  return join(o.home, '.ssh', 'known_hosts');
}
