/**
 * ProxyJump chains as nested SshTargets. Each hop is looked up in ~/.ssh/config like any host; the first hop's
 * own ProxyJump applies (as with OpenSSH), later hops are reached through the one before. A hop without its
 * own UserKnownHostsFile is checked against the target's known_hosts files, under the target's policy.
 */
import type { ConfigProblem } from '../core/config-error.js';
import { loadIdentity } from '../connection/identity.js';
import { MAX_JUMP_DEPTH, parseProxyJump, type JumpSpec } from './proxy-jump.js';
import { absolutePath, defaultIdentityFiles, type Resolved } from './resolve-options.js';
import { expandSshTokens } from './ssh-config.js';
import type { SshTarget } from '../connection/target.js';
import { asInteger, varProblem, type FoundVar, type TargetHost } from './target-vars.js';

/** What hops take over from the target they lead to. */
export interface JumpDefaults {
  knownHostsFiles: string[];
  hostKeyPolicy: SshTarget['hostKeyPolicy'];
  connectTimeoutMs: number | undefined;
}

interface Ctx {
  host: TargetHost;
  o: Resolved;
  defaults: JumpDefaults;
  problems: ConfigProblem[];
  /** The variable that set the chain, for problem positions. */
  origin: FoundVar | undefined;
}

function problem(ctx: Ctx, message: string, hint: string): undefined {
  ctx.problems.push(varProblem(ctx.host, ctx.origin, message, hint));
  return undefined;
}

function parseChain(ctx: Ctx, value: unknown, where: string, depth: number): SshTarget | undefined {
  if (typeof value !== 'string')
    return problem(
      ctx,
      `ProxyJump ${where} is ${JSON.stringify(value)}`,
      'write it as [user@]host[:port], several joined by commas',
    );
  const hops = parseProxyJump(value);
  if (typeof hops === 'string')
    return problem(ctx, `ProxyJump ${where}: ${hops}`, 'write it as [user@]host[:port], several joined by commas');
  if (!hops) return undefined;
  let previous: SshTarget | undefined;
  for (const [i, spec] of hops.entries()) {
    const hop = resolveHop(ctx, spec, depth + i, i === 0 ? 'own' : previous);
    if (!hop) return undefined;
    previous = hop;
  }
  return previous;
}

function resolveHop(
  ctx: Ctx,
  spec: JumpSpec,
  depth: number,
  before: SshTarget | 'own' | undefined,
): SshTarget | undefined {
  const { o } = ctx;
  if (depth >= MAX_JUMP_DEPTH) {
    return problem(
      ctx,
      `ProxyJump chain is longer than ${MAX_JUMP_DEPTH} hops (a jump host reaches itself?)`,
      'exclude the bastion from the Host pattern that sets ProxyJump, e.g. Host * !bastion',
    );
  }
  const cfg = o.sshConfig?.lookup(spec.host) ?? { identityFiles: [], userKnownHostsFiles: [] };
  const port = spec.port ?? (cfg.port !== undefined ? asInteger(cfg.port) : 22);
  if (port === undefined || port < 1 || port > 65535)
    return problem(
      ctx,
      `jump host ${spec.host}: Port ${cfg.port} in ${o.sshConfig?.file} is not a TCP port`,
      'write Port as a number from 1 to 65535',
    );
  const user = spec.user ?? cfg.user ?? o.localUser;
  const tokens = { host: spec.host, original: spec.host, port, remoteUser: user };
  const address = cfg.hostName ? expandSshTokens(cfg.hostName, tokens, o.home) : spec.host;
  const pathTokens = { ...tokens, host: address };
  const configured = cfg.identityFiles
    .map((f) => absolutePath(expandSshTokens(f, pathTokens, o.home), o))
    .filter((f) => loadIdentity(f).status !== 'unreadable');
  const identityFiles = configured.length > 0 ? configured : defaultIdentityFiles(o);
  if (!o.agentSocket && !identityFiles.some((f) => loadIdentity(f).status === 'ok')) {
    return problem(
      ctx,
      `jump host ${spec.host}: no usable SSH key (no IdentityFile for it in ssh config, no default key, no ssh-agent)`,
      `add IdentityFile under Host ${spec.host} in your ssh config, or start ssh-agent`,
    );
  }
  const known = cfg.userKnownHostsFiles.map((f) => absolutePath(expandSshTokens(f, pathTokens, o.home), o));
  const hop: SshTarget = {
    name: spec.host,
    address,
    port,
    user,
    identityFiles,
    agentSocket: o.agentSocket,
    knownHostsFiles: known.length > 0 ? [...known, ...o.globalKnownHostsFiles] : ctx.defaults.knownHostsFiles,
    hostKeyPolicy: ctx.defaults.hostKeyPolicy,
    become: false,
  };
  if (ctx.defaults.connectTimeoutMs !== undefined) hop.connectTimeoutMs = ctx.defaults.connectTimeoutMs;
  const problemsBefore = ctx.problems.length;
  const through =
    before !== 'own'
      ? before
      : cfg.proxyJump === undefined
        ? undefined
        : parseChain(ctx, cfg.proxyJump, `for ${spec.host} in ${o.sshConfig?.file}`, depth + 1);
  if (ctx.problems.length > problemsBefore) return undefined;
  if (through) hop.proxyJump = through;
  return hop;
}

/** The bastion (with its own chain) a host is reached through, from rollgate_proxy_jump or ssh config. */
export function resolveJumpChain(
  host: TargetHost,
  jumpVar: FoundVar | undefined,
  sshConfigValue: string | undefined,
  o: Resolved,
  defaults: JumpDefaults,
  problems: ConfigProblem[],
): SshTarget | undefined {
  const ctx: Ctx = { host, o, defaults, problems, origin: jumpVar };
  if (jumpVar) return parseChain(ctx, jumpVar.value, `(${jumpVar.name})`, 0);
  if (sshConfigValue !== undefined) return parseChain(ctx, sshConfigValue, `in ${o.sshConfig?.file}`, 0);
  return undefined;
}
