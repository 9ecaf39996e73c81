/**
 * OpenSSH known_hosts lookup: plain names, comma lists, `[host]:port`, hashed `|1|salt|hmac` entries,
 * `*`/`?` wildcards, `!negation`, `@revoked` and `@cert-authority` markers. Names compare case-insensitively
 * and hashes are taken over the lower-cased name, as ssh does (it lower-cases the host name before any lookup).
 * Pure over file text; the caller reads the files.
 */
import { createHmac } from 'node:crypto';

export interface KnownHostKey {
  /** Key type as written in the file, e.g. ssh-ed25519. */
  type: string;
  /** Base64 of the public key blob. */
  key: string;
  revoked: boolean;
  /** An `@cert-authority` line: the key signs host certificates, it is never a host's own key. */
  certAuthority: boolean;
  /** 1-based line number, for messages. */
  line: number;
}

/** The name a host is stored under: `host` on port 22, `[host]:port` otherwise, lower-cased as ssh does. */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** One parsed known_hosts line: its key and a test for host names, built once per file. */
export interface KnownHostsEntry extends KnownHostKey {
  matches(name: string): boolean;
  /** Lower-cased literal names (no wildcard, not negated, not hashed): lets a store index the entry. */
  literals: string[];
  /** Whether `literals` is the whole story (no wildcard, negation or hash to test). */
  literalOnly: boolean;
}

function hostMatcher(field: string): Pick<KnownHostsEntry, 'matches' | 'literals' | 'literalOnly'> {
  if (field.startsWith('|')) {
    const parts = field.split('|');
    const salt = Buffer.from(parts[2] ?? '', 'base64');
    const ok = parts.length === 4 && parts[1] === '1';
    // ssh hashes the lower-cased name: `LOCALHOST` must find the entry `ssh-keygen -H` wrote for `localhost`.
    const matches = (name: string) =>
      ok && createHmac('sha1', salt).update(name.toLowerCase()).digest('base64') === parts[3];
    return { literals: [], literalOnly: false, matches };
  }
  const patterns = field
    .split(',')
    .map((p) => (p.startsWith('!') ? { negated: true, text: p.slice(1) } : { negated: false, text: p }));
  const literalOnly = patterns.every((p) => !p.negated && !/[*?]/.test(p.text));
  if (literalOnly) {
    const literals = patterns.map((p) => p.text.toLowerCase());
    return { literals, literalOnly, matches: (name) => literals.includes(name.toLowerCase()) };
  }
  const compiled = patterns.map((p) => ({ negated: p.negated, re: globToRegExp(p.text) }));
  return {
    literals: [],
    literalOnly,
    matches: (name) => {
      let matched = false;
      for (const p of compiled) {
        if (p.re.test(name)) {
          if (p.negated) return false;
          matched = true;
        }
      }
      return matched;
    },
  };
}

/** Every usable line of one known_hosts file's text (comments, blanks and unknown markers left out). */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]?.startsWith('@')) marker = fields.shift();
    // ssh skips a line with a marker it does not know; so do we.
    if (marker !== undefined && marker !== '@revoked' && marker !== '@cert-authority') return;
    const [hosts, type, key] = fields;
    if (!hosts || !type || !key) return;
    entries.push({
      type,
      key,
      revoked: marker === '@revoked',
      certAuthority: marker === '@cert-authority',
      line: index + 1,
      ...hostMatcher(hosts),
    });
  });
  return entries;
}

const asKey = (e: KnownHostsEntry): KnownHostKey => ({
  type: e.type,
  key: e.key,
  revoked: e.revoked,
  certAuthority: e.certAuthority,
  line: e.line,
});

/** Every key recorded for `name` (as built by knownHostsName) in one known_hosts file's text. */
export function findKnownKeys(text: string, name: string): KnownHostKey[] {
  return parseKnownHosts(text)
    .filter((e) => e.matches(name))
    .map(asKey);
}

/** Verdict of a presented host key against the recorded ones. */
export type HostKeyVerdict =
  | { status: 'match' }
  | { status: 'unknown' }
  | { status: 'revoked'; line: number }
  | { status: 'changed'; lines: number[]; knownTypes: string[] }
  /** No plain key recorded, but the name is covered by `@cert-authority` lines: only a certificate may prove it. */
  | { status: 'cert-authority'; lines: number[] };

export function verifyHostKey(known: KnownHostKey[], presented: { type: string; key: string }): HostKeyVerdict {
  const revoked = known.find((k) => k.revoked && k.key === presented.key);
  if (revoked) return { status: 'revoked', line: revoked.line };
  const valid = known.filter((k) => !k.revoked && !k.certAuthority);
  if (valid.some((k) => k.key === presented.key)) return { status: 'match' };
  // Any recorded key for this host that differs means the key changed: refuse, as OpenSSH does. We ask for
  // the recorded algorithms first (hostKeyAlgorithms), so a differing type means the host no longer has it.
  if (valid.length > 0) {
    return { status: 'changed', lines: valid.map((k) => k.line), knownTypes: [...new Set(valid.map((k) => k.type))] };
  }
  // A CA-managed host offering a raw key is not "new": trusting or recording that key would bypass the CA.
  const authorities = known.filter((k) => k.certAuthority && !k.revoked);
  if (authorities.length > 0) return { status: 'cert-authority', lines: authorities.map((k) => k.line) };
  return { status: 'unknown' };
}

/** Signature algorithms that prove a key of each recorded type (ssh-rsa keys sign with SHA-2 first). */
const ALGORITHMS_FOR_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * Host key algorithms to ask for first, in file order, so that a host with an ed25519 entry is asked for
 * ed25519 and not reported "changed" for offering ecdsa (what OpenSSH does with its known_hosts).
 */
export function preferredHostKeyAlgorithms(known: KnownHostKey[]): string[] {
  const out: string[] = [];
  for (const k of known) {
    if (k.revoked || k.certAuthority) continue;
    for (const algo of ALGORITHMS_FOR_TYPE[k.type] ?? []) if (!out.includes(algo)) out.push(algo);
  }
  return out;
}

/** The line to append under accept-new (name as built by knownHostsName, already lower-cased). */
export function formatKnownHostsLine(name: string, type: string, key: string): string {
  return `${name} ${type} ${key}\n`;
}
