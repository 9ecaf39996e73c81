/**
 * Inventory host + ~/.ssh/config + CLI flags -> SshTarget, before any host is contacted. Inventory variables
 * win over ssh config (as with Ansible, which passes them to ssh as -o options); ssh config's Host patterns
 * match the inventory address (ansible_host, else the inventory name). Every problem found is reported at
 * once, at the file:line:col where the variable was set.
 */
import { ConfigError, type ConfigProblem } from '../load/config-error.js';
import { resolveCredentials } from './resolve-credentials.js';
import { absolutePath, defaultKnownHostsFile, isAddress, withDefaults, type Resolved, type ResolveOptions } from './resolve-options.js';
import { resolveJumpChain } from './resolve-jump.js';
import { expandSshTokens } from './ssh-config.js';
import type { SshTarget } from './target.js';
import { asBoolean, asInteger, asStringList, findVar, varProblem, type TargetHost } from './target-vars.js';

export type { ResolveOptions } from './resolve-options.js';
export type { TargetHost } from './target-vars.js';

const SSH_CONNECTIONS = new Set(['ssh', 'smart', 'paramiko']);

function hostKeyPolicy(host: TargetHost, o: Resolved, sshValue: string | undefined, problems: ConfigProblem[]): SshTarget['hostKeyPolicy'] {
  if (o.acceptNew) return 'accept-new';
  const v = findVar(host, 'hostKeyChecking');
  if (v) {
    if (v.value === 'strict' || v.value === 'accept-new') return v.value;
    const b = asBoolean(v.value);
    if (b !== undefined) return b ? 'strict' : 'accept-new'; // never "accept anything": a changed key is refused
    problems.push(varProblem(host, v, `${v.name} is ${JSON.stringify(v.value)}`, `write ${v.name}: strict or ${v.name}: accept-new`));
  }
  const s = sshValue?.toLowerCase();
  return s === 'accept-new' || s === 'no' || s === 'off' ? 'accept-new' : 'strict';
}

function resolveOne(host: TargetHost, o: Resolved, problems: ConfigProblem[]): SshTarget | undefined {
  const before = problems.length;
  const conn = findVar(host, 'connection');
  if (conn && !(typeof conn.value === 'string' && SSH_CONNECTIONS.has(conn.value))) {
    problems.push(varProblem(host, conn, `${conn.name} is ${JSON.stringify(conn.value)}; rollgate only connects over SSH`, `remove ${conn.name} or write ${conn.name}: ssh`));
  }
  const addressVar = findVar(host, 'address');
  let lookupName = host.name;
  if (addressVar) {
    const list = asStringList(addressVar.value);
    if (!list || list.length !== 1 || !isAddress(list[0]!)) {
      problems.push(varProblem(host, addressVar, `has no address: ${addressVar.name} is ${JSON.stringify(addressVar.value)}`, `write ${addressVar.name}: followed by a host name or IP address`));
    } else lookupName = list[0]!;
  } else if (!isAddress(host.name)) {
    problems.push(varProblem(host, undefined, `has no address: its name is not a host name or IP address`, 'set ansible_host: to the address to connect to'));
  }
  const cfg = o.sshConfig?.lookup(lookupName) ?? { identityFiles: [], userKnownHostsFiles: [] };
  const cfgWhere = o.sshConfig ? `(${o.sshConfig.file}, Host ${lookupName})` : '';

  let port = 22;
  const portVar = findVar(host, 'port');
  const portValue = portVar ? asInteger(portVar.value) : cfg.port !== undefined ? asInteger(cfg.port) : 22;
  if (portValue === undefined || portValue < 1 || portValue > 65535) {
    const shown = portVar ? JSON.stringify(portVar.value) : `${cfg.port} ${cfgWhere}`;
    problems.push(varProblem(host, portVar, `port ${shown} is not a TCP port`, `write ${portVar?.name ?? 'Port'} as a number from 1 to 65535`));
  } else port = portValue;

  let user = cfg.user ?? o.localUser;
  const userVar = findVar(host, 'user');
  if (userVar) {
    if (typeof userVar.value === 'string' && userVar.value.trim() !== '') user = userVar.value.trim();
    else problems.push(varProblem(host, userVar, `${userVar.name} is ${JSON.stringify(userVar.value)}`, `write ${userVar.name}: followed by a login name`));
  }
  const tokens = { host: lookupName, original: lookupName, port, remoteUser: user };
  const address = cfg.hostName ? expandSshTokens(cfg.hostName, tokens, o.home) : lookupName;
  const pathTokens = { ...tokens, host: address };

  let knownHostsFiles = cfg.userKnownHostsFiles.map((f) => expandSshTokens(f, pathTokens, o.home));
  const khVar = findVar(host, 'knownHostsFiles');
  if (khVar) {
    const files = asStringList(khVar.value);
    if (files) knownHostsFiles = files.map((f) => absolutePath(f, o));
    else problems.push(varProblem(host, khVar, `${khVar.name} is ${JSON.stringify(khVar.value)}`, `write ${khVar.name}: followed by a known_hosts file path (or a list of them)`));
  }
  if (knownHostsFiles.length === 0) knownHostsFiles = [defaultKnownHostsFile(o)];
  knownHostsFiles.push(...o.globalKnownHostsFiles.filter((f) => !knownHostsFiles.includes(f)));

  const credentials = resolveCredentials(host, o, cfg.identityFiles.map((f) => expandSshTokens(f, pathTokens, o.home)), problems);

  let become = o.become ?? false;
  const becomeVar = findVar(host, 'become');
  if (!o.become && becomeVar) {
    const b = asBoolean(becomeVar.value);
    if (b === undefined) problems.push(varProblem(host, becomeVar, `${becomeVar.name} is ${JSON.stringify(becomeVar.value)}`, `write ${becomeVar.name}: true or false`));
    else become = b;
  }
  const method = findVar(host, 'becomeMethod');
  if (become && method && method.value !== 'sudo') {
    problems.push(varProblem(host, method, `${method.name} is ${JSON.stringify(method.value)}; rollgate becomes root only through sudo -n`, `write ${method.name}: sudo`));
  }
  const becomeUserVar = findVar(host, 'becomeUser');
  const becomeUser = typeof becomeUserVar?.value === 'string' ? becomeUserVar.value : undefined;

  let connectTimeoutMs = o.connectTimeoutMs;
  const timeoutVar = findVar(host, 'connectTimeout');
  if (connectTimeoutMs === undefined && timeoutVar) {
    const s = asInteger(timeoutVar.value);
    if (s === undefined || s < 1) problems.push(varProblem(host, timeoutVar, `${timeoutVar.name} is ${JSON.stringify(timeoutVar.value)}`, `write ${timeoutVar.name}: followed by a number of seconds`));
    else connectTimeoutMs = s * 1000;
  }
  const hostKeyPolicyValue = hostKeyPolicy(host, o, cfg.strictHostKeyChecking, problems);
  const jumpVar = findVar(host, 'proxyJump');
  const proxyJump = resolveJumpChain(host, jumpVar, cfg.proxyJump, o, { knownHostsFiles, hostKeyPolicy: hostKeyPolicyValue, connectTimeoutMs }, problems);
  if (problems.length > before) return undefined;

  const target: SshTarget = {
    name: host.name,
    address,
    port,
    user,
    identityFiles: credentials.identityFiles,
    agentSocket: credentials.agentSocket,
    knownHostsFiles,
    hostKeyPolicy: hostKeyPolicyValue,
    become,
  };
  if (becomeUser) target.becomeUser = becomeUser;
  if (connectTimeoutMs !== undefined) target.connectTimeoutMs = connectTimeoutMs;
  if (proxyJump) target.proxyJump = proxyJump;
  return target;
}

/** Resolve one host. Throws ConfigError listing every problem with this host's connection settings. */
export function resolveTarget(host: TargetHost, opts: ResolveOptions = {}): SshTarget {
  return resolveTargets([host], opts)[0]!;
}

/** Resolve every host before any is contacted. Throws one ConfigError listing every problem of every host. */
export function resolveTargets(hosts: readonly TargetHost[], opts: ResolveOptions = {}): SshTarget[] {
  const o = withDefaults(opts);
  const problems: ConfigProblem[] = [];
  const targets = hosts.map((h) => resolveOne(h, o, problems));
  if (problems.length > 0) throw new ConfigError(problems);
  return targets as SshTarget[];
}
