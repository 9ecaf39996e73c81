/**
 * ssh_config evaluated as OpenSSH's readconf.c does, over the syntax the `ssh-config` package parses:
 * - lines apply in file order while the last `Host`/`Match` matched; the first value obtained wins (IdentityFile
 *   and CertificateFile accumulate); ProxyJump and ProxyCommand exclude each other, whichever comes first;
 * - `Include` in place: `~` expanded, relative paths under ~/.ssh, `*`/`?` globs sorted, at most 16 deep, an
 *   Include inside a non-matching block not read, no match (or a missing file) ignored;
 * - `Host` patterns with `!` negation against the name given (in the final pass: the HostName);
 * - `Match all | host | originalhost | user | localuser | canonical | final`, each negatable with `!`;
 *   `Match exec` is refused (rollgate runs no command from ssh_config) when the line's earlier criteria hold,
 *   which is when OpenSSH would run it; unknown criteria are refused;
 * - a final pass when `Match final` was reached or CanonicalizeHostname is on, where `canonical`/`final` match.
 *   rollgate does not canonicalize names (no DNS); it behaves as OpenSSH does when canonicalization finds no
 *   match, so `Match canonical` blocks still apply in the final pass.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import SSHConfig from 'ssh-config';
import { ConfigError } from '../core/config-error.js';
import { matchPatterns, patternList } from './ssh-patterns.js';

/** Where relative Include paths and `~` point, and who the local user is. */
export interface SshConfigContext {
  home: string;
  localUser: string;
}

/**
 * One directive, flattened out of Host/Match blocks and Includes; `guards` are the blocks it sits under (more
 * than one for an Include inside a block), all of which must match.
 */
interface Directive {
  key: string;
  args: string[];
  file: string;
  line: number;
  guards: Guard[];
}

type Guard = { kind: 'host'; patterns: string[] } | { kind: 'match'; criteria: string[]; file: string; line: number };

interface Node {
  type: number;
  param?: string;
  value?: string | Array<{ val: string }>;
  after?: string;
  before?: string;
  config?: Node[];
}

const MAX_DEPTH = 16; // READCONF_MAX_DEPTH

const words = (v: Node['value']): string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : v.map((x) => x.val);

function globFiles(pattern: string): string[] {
  if (!/[*?[]/.test(pattern)) return [pattern];
  const parts = pattern.split('/');
  let paths = [parts[0] === '' ? '/' : '.'];
  for (const part of parts.slice(parts[0] === '' ? 1 : 0)) {
    if (part === '') continue;
    const next: string[] = [];
    for (const dir of paths) {
      if (!/[*?[]/.test(part)) next.push(join(dir, part));
      else
        try {
          for (const name of readdirSync(dir).sort())
            if (!name.startsWith('.') && matchPatterns([part], name, false)) next.push(join(dir, name));
        } catch {
          // an unreadable or missing directory matches nothing, as glob(3) says
        }
    }
    paths = next;
  }
  return paths;
}

/** Read one file into directives, following Includes in place. */
function flatten(
  file: string,
  ctx: SshConfigContext,
  depth: number,
  outer: Guard[],
  out: Directive[],
  chain: string[],
): void {
  if (depth > MAX_DEPTH)
    throw new ConfigError([
      {
        message: `ssh config Include nested more than ${MAX_DEPTH} deep (${chain.join(' -> ')})`,
        hint: 'remove the Include that includes itself',
      },
    ]);
  let text: string;
  try {
    if (!statSync(file).isFile()) return;
    text = readFileSync(file, 'utf8');
  } catch {
    return; // OpenSSH ignores an Include that names no readable file
  }
  flattenText(text, file, ctx, depth, outer, out, chain);
}

export function flattenText(
  text: string,
  file: string,
  ctx: SshConfigContext,
  depth: number,
  outer: Guard[],
  out: Directive[],
  chain: string[] = [file],
): void {
  let nodes: Node[];
  try {
    nodes = SSHConfig.parse(text) as unknown as Node[];
  } catch (err) {
    throw new ConfigError([{ message: `${file}: ${(err as Error).message}`, hint: 'fix the ssh config syntax' }]);
  }
  let line = 1;
  // A file's own Host/Match lines only narrow what the including block already selected.
  const visit = (node: Node, guards: Guard[]): void => {
    const here = line;
    line += ((node.before ?? '') + (node.after ?? '')).split('\n').length - 1;
    if (node.type !== SSHConfig.DIRECTIVE || !node.param) return;
    const key = node.param.toLowerCase();
    const args = words(node.value);
    if (key === 'host' || key === 'match') {
      const g: Guard =
        key === 'host' ? { kind: 'host', patterns: args } : { kind: 'match', criteria: args, file, line: here };
      const inner = [...guards, g];
      // A marker, so the block's criteria are judged at its own position even when its body is empty.
      out.push({ key: '', args: [], file, line: here, guards: inner });
      for (const child of node.config ?? []) visit(child, inner);
      return;
    }
    if (key === 'include') {
      for (const arg of args) {
        const expanded = arg === '~' ? ctx.home : arg.startsWith('~/') ? join(ctx.home, arg.slice(2)) : arg;
        const path = isAbsolute(expanded) ? expanded : join(ctx.home, '.ssh', expanded);
        for (const f of globFiles(path)) flatten(f, ctx, depth + 1, guards, out, [...chain, f]);
      }
      return;
    }
    out.push({ key, args, file, line: here, guards });
  };
  for (const node of nodes) visit(node, outer);
}

/** What one pass needs to decide whether a guard holds. */
export interface PassState {
  /** Name Host patterns match: the name given, or the HostName in the final pass. */
  host: string;
  originalHost: string;
  /** HostName so far (%h expanded), which `Match host` tests; the name given when none. */
  hostName: () => string;
  /** User so far, which `Match user` tests; the local user when none. */
  user: () => string;
  localUser: string;
  finalPass: boolean;
  wantFinal: boolean;
  /** Lookups name the host in messages. */
  name: string;
}

function matchHolds(g: Extract<Guard, { kind: 'match' }>, s: PassState): boolean {
  const position = { file: g.file, line: g.line, column: 1 };
  let result = true;
  for (let i = 0; i < g.criteria.length; i++) {
    const raw = g.criteria[i] ?? '';
    const negate = raw.startsWith('!');
    const attr = (negate ? raw.slice(1) : raw).toLowerCase();
    let r: boolean;
    if (attr === 'all') r = true;
    else if (attr === 'canonical' || attr === 'final') {
      if (attr === 'final') s.wantFinal = true;
      r = s.finalPass;
    } else {
      const arg = g.criteria[++i];
      if (arg === undefined)
        throw new ConfigError([
          { position, message: `Match ${attr} needs a value`, hint: `write Match ${attr} PATTERN` },
        ]);
      if (attr === 'host') r = matchPatterns(patternList(arg), s.hostName(), true);
      else if (attr === 'originalhost') r = matchPatterns(patternList(arg), s.originalHost, true);
      else if (attr === 'user') r = matchPatterns(patternList(arg), s.user(), false);
      else if (attr === 'localuser') r = matchPatterns(patternList(arg), s.localUser, false);
      else if (attr === 'exec') {
        if (!result) continue; // OpenSSH skips the command once an earlier criterion failed
        throw new ConfigError([
          {
            position,
            message: `Match exec "${arg}" decides the settings of ${s.name}, and rollgate runs no command from ssh_config`,
            hint: 'replace it with Match host/originalhost/user, or give the settings in the inventory (ansible_host, ansible_port, ansible_user)',
          },
        ]);
      } else
        throw new ConfigError([
          {
            position,
            message: `Match ${attr} is not supported by rollgate`,
            hint: 'use Match all, host, originalhost, user, localuser, canonical or final',
          },
        ]);
    }
    if (r === negate) result = false;
  }
  return result;
}

/** Judge a guard once per pass, at its first directive, as OpenSSH judges a Host/Match line where it stands. */
export function guardHolds(g: Guard, s: PassState, seen: Map<Guard, boolean>): boolean {
  const known = seen.get(g);
  if (known !== undefined) return known;
  const r = judge(g, s);
  seen.set(g, r);
  return r;
}

function judge(g: Guard, s: PassState): boolean {
  if (g.kind === 'host') return matchPatterns(g.patterns, s.host, false); // Host is case-sensitive, Match host is not
  return matchHolds(g, s);
}

export type { Directive, Guard };
