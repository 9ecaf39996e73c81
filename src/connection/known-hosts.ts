/**
 * OpenSSH known_hosts lookup: plain names, comma lists, `[host]:port`, hashed `|1|salt|hmac` entries,
 * `*`/`?` wildcards, `!negation` and `@revoked` markers. Pure over file text; the caller reads the files.
 */
import { createHmac } from 'node:crypto';

export interface KnownHostKey {
  /** Key type as written in the file, e.g. ssh-ed25519. */
  type: string;
  /** Base64 of the public key blob. */
  key: string;
  revoked: boolean;
  /** 1-based line number, for messages. */
  line: number;
}

/** The name a host is stored under: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedMatches(entry: string, name: string): boolean {
  const parts = entry.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const digest = createHmac('sha1', salt).update(name).digest('base64');
  return digest === parts[3];
}

function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedMatches(field, name);
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      if (globToRegExp(pattern.slice(1)).test(name)) return false;
    } else if (globToRegExp(pattern).test(name)) {
      matched = true;
    }
  }
  return matched;
}

/** Every key recorded for `name` (as built by knownHostsName) in one known_hosts file's text. */
export function findKnownKeys(text: string, name: string): KnownHostKey[] {
  const keys: KnownHostKey[] = [];
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]?.startsWith('@')) {
      const marker = fields.shift();
      if (marker === '@cert-authority') return; // host certificates are not supported yet
      revoked = marker === '@revoked';
    }
    const [hosts, type, key] = fields;
    if (!hosts || !type || !key) return;
    if (hostFieldMatches(hosts, name)) keys.push({ type, key, revoked, line: index + 1 });
  });
  return keys;
}

/** Verdict of a presented host key against the recorded ones. */
export type HostKeyVerdict =
  | { status: 'match' }
  | { status: 'unknown' }
  | { status: 'revoked'; line: number }
  | { status: 'changed'; lines: number[]; knownTypes: string[] };

export function verifyHostKey(known: KnownHostKey[], presented: { type: string; key: string }): HostKeyVerdict {
  const revoked = known.find((k) => k.revoked && k.key === presented.key);
  if (revoked) return { status: 'revoked', line: revoked.line };
  const valid = known.filter((k) => !k.revoked);
  if (valid.some((k) => k.key === presented.key)) return { status: 'match' };
  // Any recorded key for this host that differs means the key changed: refuse, as OpenSSH does. We ask for
  // the recorded algorithms first (hostKeyAlgorithms), so a differing type means the host no longer has it.
  if (valid.length > 0) {
    return { status: 'changed', lines: valid.map((k) => k.line), knownTypes: [...new Set(valid.map((k) => k.type))] };
  }
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
    if (k.revoked) continue;
    for (const algo of ALGORITHMS_FOR_TYPE[k.type] ?? []) if (!out.includes(algo)) out.push(algo);
  }
  return out;
}

/** The line to append under accept-new. */
export function formatKnownHostsLine(name: string, type: string, key: string): string {
  return `${name} ${type} ${key}\n`;
}
