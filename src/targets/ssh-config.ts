/**
 * ~/.ssh/config (or --ssh-config FILE) read as OpenSSH reads it: the maintained `ssh-config` package parses the
 * syntax, ssh-config-eval.ts applies Include, Host, Match and first-value-wins (see there for what is refused).
 * The settings rollgate uses: HostName, User, Port, IdentityFile, ProxyJump (and ProxyCommand, so a target can
 * refuse it), UserKnownHostsFile, StrictHostKeyChecking.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../core/config-error.js';
import {
  flattenText,
  guardHolds,
  type Directive,
  type Guard,
  type PassState,
  type SshConfigContext,
} from './ssh-config-eval.js';

/** What ssh_config says about one host name. Paths are as written (see expandSshTokens). */
export interface SshConfigEntry {
  hostName?: string;
  user?: string;
  port?: string;
  identityFiles: string[];
  proxyJump?: string;
  /** ProxyCommand as written (words joined by spaces); absent when none or ProxyJump came first. */
  proxyCommand?: string;
  userKnownHostsFiles: string[];
  strictHostKeyChecking?: string;
}

export interface SshConfigFile {
  /** The file read, for messages. */
  file: string;
  /** Settings for `name`; `user` is the login user already chosen (the inventory's), which `Match user` tests. */
  lookup(name: string, opts?: { user?: string }): SshConfigEntry;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '';
  }
}

/** %h and %% in HostName, the only tokens OpenSSH expands there. */
const expandHostName = (value: string, host: string): string =>
  value.replace(/%([h%])/g, (_m, t: string) => (t === 'h' ? host : '%'));

function evaluate(directives: Directive[], name: string, localUser: string, user?: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  const state: PassState = {
    host: name,
    originalHost: name,
    hostName: () => {
      const h = values.get('hostname')?.[0];
      return h === undefined ? name : expandHostName(h, name);
    },
    user: () => user ?? values.get('user')?.[0] ?? localUser,
    localUser,
    finalPass: false,
    wantFinal: false,
    name,
  };
  const pass = (): void => {
    const seen = new Map<Guard, boolean>();
    for (const d of directives) {
      if (!d.guards.every((g) => guardHolds(g, state, seen)) || d.key === '') continue;
      if (d.key === 'identityfile' || d.key === 'certificatefile') {
        values.set(d.key, [...(values.get(d.key) ?? []), ...d.args.slice(0, 1)]);
      } else if (d.key === 'proxyjump' || d.key === 'proxycommand') {
        if (!values.has('proxyjump') && !values.has('proxycommand')) values.set(d.key, d.args);
      } else if (!values.has(d.key)) values.set(d.key, d.args);
    }
  };
  pass();
  const canonicalize = values.get('canonicalizehostname')?.[0]?.toLowerCase();
  if (state.wantFinal || (canonicalize !== undefined && canonicalize !== 'no')) {
    state.finalPass = true;
    state.host = state.hostName();
    pass();
  }
  return values;
}

/** Parse config text. Reads Included files; `file` names the text in messages. */
export function parseSshConfig(text: string, file: string, ctx: Partial<SshConfigContext> = {}): SshConfigFile {
  const context: SshConfigContext = { home: ctx.home ?? homedir(), localUser: ctx.localUser ?? currentUser() };
  const directives: Directive[] = [];
  flattenText(text, file, context, 0, [], directives);
  return {
    file,
    lookup(name, opts = {}) {
      const v = evaluate(directives, name, context.localUser, opts.user);
      const first = (key: string): string | undefined => {
        const a = v.get(key);
        return a && a.length > 0 ? a.join(' ') : undefined;
      };
      const entry: SshConfigEntry = {
        identityFiles: v.get('identityfile') ?? [],
        userKnownHostsFiles: (v.get('userknownhostsfile') ?? []).flatMap((f) => f.split(/\s+/)).filter(Boolean),
      };
      const fields = {
        hostName: first('hostname'),
        user: first('user'),
        port: first('port'),
        proxyJump: first('proxyjump'),
        proxyCommand: first('proxycommand'),
        strictHostKeyChecking: first('stricthostkeychecking'),
      };
      for (const [key, value] of Object.entries(fields)) {
        if (value === undefined) continue;
        if ((key === 'proxyJump' || key === 'proxyCommand') && value.toLowerCase() === 'none') continue;
        entry[key as 'hostName'] = value;
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
  return parseSshConfig(readFileSync(path, 'utf8'), path, { home });
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

/**
 * The one ProxyCommand form rollgate takes over: `ssh [-q] [-l USER] [-p PORT] -W %h:%p JUMP` (options before or
 * after the jump host) is ProxyJump `[USER@]JUMP[:PORT]`. Null for anything else, which a target refuses.
 */
export function proxyJumpFromCommand(command: string): string | null {
  const words = command.trim().split(/\s+/);
  if (words.shift() !== 'ssh') return null;
  let user: string | undefined;
  let port: string | undefined;
  let host: string | undefined;
  let forwards = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? '';
    if (w === '-W' && words[i + 1] === '%h:%p') {
      forwards = true;
      i++;
    } else if (w === '-l' || w === '-p') {
      const v = words[++i];
      if (v === undefined) return null;
      if (w === '-l') user = v;
      else port = v;
    } else if (/^-[q46]+$/.test(w)) continue;
    else if (!w.startsWith('-') && host === undefined) host = w;
    else return null;
  }
  if (!forwards || host === undefined) return null;
  return `${user && !host.includes('@') ? `${user}@` : ''}${host}${port ? `:${port}` : ''}`;
}
