/**
 * Private key files: read, tell an encrypted key from a usable one (rollgate never prompts for a passphrase;
 * encrypted keys are meant to be loaded into ssh-agent), and parse with ssh2's own parser.
 */
import { readFileSync, statSync } from 'node:fs';
import ssh2, { type ParsedKey } from 'ssh2';

export type IdentityStatus =
  | { status: 'ok'; key: ParsedKey }
  | { status: 'encrypted' }
  | { status: 'unreadable'; reason: string }
  | { status: 'invalid'; reason: string };

/** Whether a private key's text is passphrase-protected, read from its format (not from a parser's message). */
export function isEncryptedKeyText(text: string): boolean {
  if (/^-----BEGIN ENCRYPTED PRIVATE KEY-----/m.test(text)) return true;
  if (/^Proc-Type:\s*4,ENCRYPTED/m.test(text)) return true;
  if (/^Encryption:\s*(?!none)\S+/m.test(text)) return true; // PuTTY .ppk
  const body = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text)?.[1];
  if (body === undefined) return false;
  // openssh-key-v1\0, then uint32 length + cipher name ("none" when not encrypted).
  const blob = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (blob.subarray(0, magic.length).toString('latin1') !== magic) return false;
  const len = blob.readUInt32BE(magic.length);
  return blob.subarray(magic.length + 4, magic.length + 4 + len).toString('latin1') !== 'none';
}

/** Parsed keys by path, valid while the file's inode, size and mtime stay the same (one parse per run). */
const parsed = new Map<string, { stamp: string; identity: IdentityStatus }>();

/** Read and parse one key file. Errors are values: the caller decides whether they are fatal. */
export function loadIdentity(file: string): IdentityStatus {
  let data: Buffer;
  let stamp: string;
  try {
    const st = statSync(file);
    stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    const hit = parsed.get(file);
    if (hit?.stamp === stamp) return hit.identity;
    data = readFileSync(file);
  } catch (err) {
    return { status: 'unreadable', reason: (err as NodeJS.ErrnoException).code ?? 'cannot read' };
  }
  const identity = parseIdentity(data);
  parsed.set(file, { stamp, identity });
  return identity;
}

function parseIdentity(data: Buffer): IdentityStatus {
  if (isEncryptedKeyText(data.toString('latin1'))) return { status: 'encrypted' };
  const result = ssh2.utils.parseKey(data); // ssh2 is CommonJS: `utils` is not a named ESM export
  if (result instanceof Error) return { status: 'invalid', reason: 'not a private key ssh2 can read' };
  const key = Array.isArray(result) ? (result[0] as ParsedKey | undefined) : result;
  if (!key || !key.isPrivateKey()) return { status: 'invalid', reason: 'holds no private key' };
  return { status: 'ok', key };
}
