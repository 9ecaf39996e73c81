/**
 * Inventory host + ~/.ssh/config + CLI flags -> SshTarget, before any host is contacted. The inventory's
 * connection variables come from connectionVars (src/targets/connection-vars.ts) plus the few only this layer
 * reads; they win over ansible_ssh_common_args, which wins over ssh config (as with Ansible, which passes them
 * to ssh as -o options). ssh config's Host patterns match the inventory address (ansible_host, else the
 * inventory name). Every problem found is reported at once, at the file:line:col where the variable was set.
 */
import { ConfigError, type ConfigProblem } from '../core/config-error.js';
import { InternalError } from '../core/internal-error.js';
import { ansibleBoolean, connectionVars, type ConnectionVars } from './connection-vars.js';
import { resolveCredentials } from './resolve-credentials.js';
import {
  absolutePath,
  defaultKnownHostsFile,
  withDefaults,
  type Resolved,
  type ResolveOptions,
} from './resolve-options.js';
import { resolveBecomePassword } from './resolve-become.js';
import { lockedVarProblems } from './locked-vars.js';
import { resolveBecomeMethod } from './resolve-become-method.js';
import { resolveJumpChain } from './resolve-jump.js';
import { parseSshCommonArgs, type SshCommonArgs } from './ssh-common-args.js';
import { expandSshTokens, proxyJumpFromCommand, type SshConfigEntry } from './ssh-config.js';
import type { SshTarget } from '../connection/target.js';
import { asInteger, findVar, varProblem, type TargetHost } from './target-vars.js';

export type { ResolveOptions } from './resolve-options.js';
export type { TargetHost } from './target-vars.js';

const SSH_CONNECTIONS = new Set(['ssh', 'smart', 'paramiko']);

function hostKeyPolicy(
  host: TargetHost,
  o: Resolved,
  sshValue: string | undefined,
  problems: ConfigProblem[],
): SshTarget['hostKeyPolicy'] {
  if (o.acceptNew) return 'accept-new';
  const v = findVar(host, 'hostKeyChecking');
  if (v) {
    if (v.value === 'strict' || v.value === 'accept-new') return v.value;
    const b = ansibleBoolean(v.value);
    if (b !== undefined) return b ? 'strict' : 'accept-new'; // never "accept anything": a changed key is refused
    problems.push(
      varProblem(
        host,
        v,
        `${v.name} is ${JSON.stringify(v.value)}`,
        `write ${v.name}: strict or ${v.name}: accept-new`,
      ),
    );
  }
  const s = sshValue?.toLowerCase();
  return s === 'accept-new' || s === 'no' || s === 'off' ? 'accept-new' : 'strict';
}

/** connectionVars' settings, or undefined after adding its problems. */
function inventoryVars(host: TargetHost, problems: ConfigProblem[]): ConnectionVars | undefined {
  try {
    return connectionVars(host);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
    return undefined;
  }
}

/** The settings rollgate reads from ansible_ssh_common_args, or {} after adding a problem. */
function commonArgs(host: TargetHost, cv: ConnectionVars, problems: ConfigProblem[]): SshCommonArgs {
  if (!cv.sshCommonArgs) return {};
  const parsed = parseSshCommonArgs(cv.sshCommonArgs.value);
  if (typeof parsed !== 'string') return parsed;
  const from = cv.sshCommonArgs.from ?? 'ansible_ssh_common_args';
  problems.push(
    varProblem(
      host,
      { name: from, value: cv.sshCommonArgs.value, position: cv.sshCommonArgs.origin },
      `${from}: ${parsed}`,
      `write -o ProxyJump=[user@]bastion[:port] instead`,
    ),
  );
  return {};
}

function checkConnection(host: TargetHost, problems: ConfigProblem[]): void {
  const conn = findVar(host, 'connection');
  if (conn && !(typeof conn.value === 'string' && SSH_CONNECTIONS.has(conn.value))) {
    problems.push(
      varProblem(
        host,
        conn,
        `${conn.name} is ${JSON.stringify(conn.value)}; rollgate only connects over SSH`,
        `remove ${conn.name} or write ${conn.name}: ssh`,
      ),
    );
  }
}

/** A become user is a word after sudo's -u or su's flags: one starting with `-` would be read as an option. */
function checkBecomeUser(host: TargetHost, cv: ConnectionVars, problems: ConfigProblem[]): void {
  const u = cv.becomeUser;
  if (!u?.value.startsWith('-')) return;
  const name = u.from ?? 'ansible_become_user';
  problems.push(
    varProblem(
      host,
      { name, value: u.value, position: u.origin },
      `${name} is ${JSON.stringify(u.value)}: a user name cannot start with -`,
      `write the user to become, e.g. ${name}: root`,
    ),
  );
}

function connectTimeout(host: TargetHost, o: Resolved, problems: ConfigProblem[]): number | undefined {
  if (o.connectTimeoutMs !== undefined) return o.connectTimeoutMs;
  const v = findVar(host, 'connectTimeout');
  if (!v) return undefined;
  const s = asInteger(v.value);
  if (s !== undefined && s >= 1) return s * 1000;
  problems.push(
    varProblem(host, v, `${v.name} is ${JSON.stringify(v.value)}`, `write ${v.name}: followed by a number of seconds`),
  );
  return undefined;
}

/** ProxyJump from ssh_config, or the `ssh -W %h:%p JUMP` ProxyCommand that means the same; other commands refused. */
function configJump(host: TargetHost, cfg: SshConfigEntry, o: Resolved, problems: ConfigProblem[]): string | undefined {
  if (cfg.proxyCommand === undefined) return cfg.proxyJump;
  const jump = proxyJumpFromCommand(cfg.proxyCommand);
  if (jump !== null) return jump;
  problems.push(
    varProblem(
      host,
      undefined,
      `ProxyCommand "${cfg.proxyCommand}" in ${o.sshConfig?.file ?? 'ssh config'} is not run by rollgate`,
      'write ProxyJump [user@]jumphost[:port] instead (rollgate reads ProxyCommand only in its ssh -W %h:%p JUMP form)',
    ),
  );
  return undefined;
}

function resolveOne(host: TargetHost, o: Resolved, problems: ConfigProblem[]): SshTarget | undefined {
  const before = problems.length;
  const locked = lockedVarProblems(host);
  if (locked.length > 0) {
    problems.push(...locked);
    return undefined;
  }
  const cv = inventoryVars(host, problems);
  checkConnection(host, problems);
  // Whatever `become` says: a play's or task's `become: true` turns it on later, for this same target.
  const method = resolveBecomeMethod(host, problems);
  const connectTimeoutMs = connectTimeout(host, o, problems);
  if (!cv) return undefined;
  checkBecomeUser(host, cv, problems);
  const args = commonArgs(host, cv, problems);
  const lookupName = cv.address.value;
  const cfg = o.sshConfig?.lookup(lookupName, { user: cv.user?.value }) ?? {
    identityFiles: [],
    userKnownHostsFiles: [],
  };

  let port = cv.port.from ? cv.port.value : 22;
  if (!cv.port.from && cfg.port !== undefined) {
    const p = asInteger(cfg.port);
    if (p === undefined || p < 1 || p > 65535) {
      problems.push(
        varProblem(
          host,
          undefined,
          `Port ${cfg.port} in ${o.sshConfig?.file} (Host ${lookupName}) is not a TCP port`,
          'write Port as a number from 1 to 65535',
        ),
      );
    } else port = p;
  }
  const user = cv.user?.value ?? cfg.user ?? o.localUser;
  const tokens = { host: lookupName, original: lookupName, port, remoteUser: user };
  const address = cfg.hostName ? expandSshTokens(cfg.hostName, tokens, o.home) : lookupName;
  const pathTokens = { ...tokens, host: address };

  const userFiles = cv.knownHostsFile
    ? [absolutePath(cv.knownHostsFile.value, o)]
    : (args.userKnownHostsFiles ?? cfg.userKnownHostsFiles).map((f) =>
        absolutePath(expandSshTokens(f, pathTokens, o.home), o),
      );
  const knownHostsFiles = userFiles.length > 0 ? userFiles : [defaultKnownHostsFile(o)];
  knownHostsFiles.push(...o.globalKnownHostsFiles.filter((f) => !knownHostsFiles.includes(f)));

  const identityFiles = cfg.identityFiles.map((f) => expandSshTokens(f, pathTokens, o.home));
  const credentials = resolveCredentials(host, o, cv.keyFiles, identityFiles, problems);
  const policy = hostKeyPolicy(host, o, args.strictHostKeyChecking ?? cfg.strictHostKeyChecking, problems);
  const jumpVar = findVar(host, 'proxyJump');
  const jumpDefaults = { knownHostsFiles, hostKeyPolicy: policy, connectTimeoutMs };
  const proxyJump = resolveJumpChain(
    host,
    jumpVar,
    args.proxyJump ?? configJump(host, cfg, o, problems),
    o,
    jumpDefaults,
    problems,
  );
  const becomePassword = resolveBecomePassword(host, o, problems);
  if (problems.length > before) return undefined;

  const target: SshTarget = {
    name: host.name,
    address,
    port,
    user,
    identityFiles: credentials.identityFiles,
    agentSocket: credentials.agentSocket,
    knownHostsFiles,
    hostKeyPolicy: policy,
    become: o.become === true || cv.become.value,
    ...method,
  };
  if (cv.becomeUser) target.becomeUser = cv.becomeUser.value;
  if (becomePassword) target.becomePassword = becomePassword;
  if (connectTimeoutMs !== undefined) target.connectTimeoutMs = connectTimeoutMs;
  if (proxyJump) target.proxyJump = proxyJump;
  return target;
}

/** Resolve one host. Throws ConfigError listing every problem with this host's connection settings. */
export function resolveTarget(host: TargetHost, opts: ResolveOptions = {}): SshTarget {
  const [target] = resolveTargets([host], opts);
  if (!target) throw new InternalError(`no target resolved for host ${host.name}`);
  return target;
}

/** Resolve every host before any is contacted. Throws one ConfigError listing every problem of every host. */
export function resolveTargets(hosts: readonly TargetHost[], opts: ResolveOptions = {}): SshTarget[] {
  const o = withDefaults(opts);
  const problems: ConfigProblem[] = [];
  const targets = hosts.map((h) => resolveOne(h, o, problems));
  if (problems.length > 0) throw new ConfigError(problems);
  return targets as SshTarget[];
}
