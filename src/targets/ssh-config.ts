/**
 * The ~/.ssh/config subset operators rely on, read with the maintained `ssh-config` package (Host patterns
 * with negation, first value wins, IdentityFile accumulates): HostName, User, Port, IdentityFile, ProxyJump,
 * UserKnownHostsFile, StrictHostKeyChecking. `Match exec` is never run; `Include` is not followed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import SSHConfig from 'ssh-config';
import { ConfigError } from '../core/config-error.js';

/** What ~/.ssh/config says about one host name. Paths are as written (see expandSshTokens). */
export interface SshConfigEntry {
  hostName?: string;
  user?: string;
  port?: string;
  identityFiles: string[];
  proxyJump?: string;
  userKnownHostsFiles: string[];
  strictHostKeyChecking?: string;
}

export interface SshConfigFile {
  /** The file read, for messages. */
  file: string;
  lookup(name: string): SshConfigEntry;
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

/** Every value of a directive; `split` for space-separated lists such as UserKnownHostsFile. */
function all(value: unknown, split: boolean): string[] {
  const values =
    typeof value === 'string'
      ? [value]
      : Array.isArray(value)
        ? value.filter((v): v is string => typeof v === 'string')
        : [];
  return split ? values.flatMap((v) => v.split(/\s+/)).filter(Boolean) : values;
}

/** Parse config text. Pure; `file` is only for messages. */
export function parseSshConfig(text: string, file: string): SshConfigFile {
  const config = SSHConfig.parse(text);
  return {
    file,
    lookup(name) {
      const c = config.compute(name, { ignoreCase: true, matchExec: false }) as Record<string, unknown>;
      const entry: SshConfigEntry = {
        identityFiles: all(c.identityfile, false),
        userKnownHostsFiles: all(c.userknownhostsfile, true),
      };
      const fields = {
        hostName: c.hostname,
        user: c.user,
        port: c.port,
        proxyJump: c.proxyjump,
        strictHostKeyChecking: c.stricthostkeychecking,
      };
      for (const [key, value] of Object.entries(fields)) {
        const s = str(value);
        if (s !== undefined) entry[key as 'hostName'] = s;
      }
      return entry;
    },
  };
}

/** The default user config, ~/.ssh/config. */
export function defaultSshConfigPath(home = homedir()): string {
  return join(home, '.ssh', 'config');
}

/**
 * Read an ssh config file. An explicitly named file (--ssh-config) must exist; the default one is optional
 * and returns undefined when absent.
 */
export function loadSshConfig(file: string | undefined, home = homedir()): SshConfigFile | undefined {
  const path = file ?? defaultSshConfigPath(home);
  if (!existsSync(path)) {
    if (file === undefined) return undefined;
    throw new ConfigError([
      {
        message: `ssh config file ${file} does not exist`,
        hint: 'pass an existing file to --ssh-config, or leave the option out to use ~/.ssh/config',
      },
    ]);
  }
  return parseSshConfig(readFileSync(path, 'utf8'), path);
}

/** Values for the `%` tokens OpenSSH expands in HostName, IdentityFile and UserKnownHostsFile. */
export interface SshTokens {
  /** %h: the remote host name (after HostName for paths, the original for HostName itself). */
  host: string;
  /** %n: the name as given. */
  original: string;
  /** %p */
  port: number;
  /** %r: the remote user. */
  remoteUser: string;
}

/** Expand `~/` and %h %n %p %r %u %d %% as OpenSSH does. */
export function expandSshTokens(value: string, tokens: SshTokens, home = homedir()): string {
  const table: Record<string, string> = {
    h: tokens.host,
    n: tokens.original,
    p: String(tokens.port),
    r: tokens.remoteUser,
    u: userInfo().username,
    d: home,
    '%': '%',
  };
  const expanded = value.replace(/%([hnprud%])/g, (_m, t: string) => table[t] ?? '');
  return expanded === '~' ? home : expanded.startsWith('~/') ? join(home, expanded.slice(2)) : expanded;
}
