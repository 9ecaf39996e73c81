/**
 * ansible-vault data, read as Ansible writes it: a `$ANSIBLE_VAULT;1.1;AES256` (or `;1.2;AES256;<vault-id>`)
 * header, then hex lines that unhexlify to `hex(salt)\nhex(hmac)\nhex(ciphertext)`. PBKDF2-HMAC-SHA256 with 10000
 * iterations gives 80 bytes: the AES-256 key, the HMAC-SHA256 key, and the CTR counter block; the HMAC covers the
 * ciphertext; the plaintext is PKCS#7-padded. Used for whole encrypted files and for inline `!vault |` values.
 *
 * The vault passwords of a run are set once (setVaultSecrets, from the CLI's --vault-* options) before any input
 * is read; every value decrypted is remembered (vaultPlaintexts) so the run's secret scrubber takes it out of the
 * journal, events, logs and reports.
 */
import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { ConfigError, type SourcePosition } from '../core/config-error.js';

/** One vault password and the vault id it was given for (`default` when none). */
export interface VaultSecret {
  id: string;
  password: string;
  /** Where it came from, for messages: `--vault-password-file pw.txt`, `--ask-vault-pass`... */
  source: string;
}

const HEADER = /^\$ANSIBLE_VAULT;(1\.[12]);AES256(?:;([^\s;]+))?\s*$/;
const NO_PASSWORD_HINT =
  'pass --vault-password-file FILE, --vault-id [label@]FILE (or label@prompt), --ask-vault-pass, or set ANSIBLE_VAULT_PASSWORD_FILE';

let secrets: VaultSecret[] = [];
let plaintexts: string[] = [];

/** Inline `!vault` values decrypted: plaintext -> the vault data as written, for `inventory --list`. */
let inlineData = new Map<string, string>();

/** The passwords to try, in order (a secret whose id matches the data's vault id is tried first). */
export function setVaultSecrets(list: readonly VaultSecret[]): void {
  secrets = [...list];
  plaintexts = [];
  inlineData = new Map();
}

/** An inline `!vault` value was decrypted: remember it as a secret and what it was written as. */
export function rememberInlineVault(plain: string, data: string): void {
  plaintexts.push(plain);
  inlineData.set(plain, data);
}

/**
 * The vault data an inline `!vault` value was written as, when `value` is one's plaintext: ansible-inventory
 * prints such values as `{"__ansible_vault": data}`, never decrypted (whole encrypted files it prints in clear).
 */
export function inlineVaultData(value: string): string | undefined {
  return inlineData.get(value);
}

/** Every value decrypted so far: secrets of the run. */
export function vaultPlaintexts(): readonly string[] {
  return plaintexts;
}

/** Remember decrypted values (every string leaf of a decrypted file's data) as secrets of the run. */
export function rememberVaultValues(value: unknown, depth = 0): void {
  if (depth > 32 || value === null || value === undefined) return;
  if (typeof value === 'string') plaintexts.push(value);
  else if (typeof value === 'number' || typeof value === 'bigint') plaintexts.push(String(value));
  else if (typeof value === 'object') for (const v of Object.values(value)) rememberVaultValues(v, depth + 1);
}

const vaultedFiles = new Set<string>();

/** A whole encrypted input file, decrypted; parseYaml then remembers its values as secrets. */
export function openVaultedFile(text: string, file: string): string {
  const plain = decryptVault(text, { file, line: 1, column: 1 });
  vaultedFiles.add(file);
  return plain;
}

/** Whether `file` was an encrypted file (so every value read from it is a secret). */
export function wasVaulted(file: string): boolean {
  return vaultedFiles.has(file);
}

/** Whether text is ansible-vault data (its first line is the header). */
export function isVaulted(text: string): boolean {
  return /^\s*\$ANSIBLE_VAULT;/.test(text.slice(0, 256));
}

function unhex(text: string): Buffer | null {
  const clean = text.replace(/\s+/g, '');
  return /^(?:[0-9a-fA-F]{2})*$/.test(clean) ? Buffer.from(clean, 'hex') : null;
}

interface VaultBody {
  salt: Buffer;
  mac: Buffer;
  ciphertext: Buffer;
}

/** `hex(salt)\nhex(hmac)\nhex(ciphertext)`; null when the body is not in that shape. */
function splitBody(body: Buffer): VaultBody | null {
  const [saltHex, hmacHex, cipherHex] = body.toString('latin1').split('\n');
  const salt = unhex(saltHex ?? '');
  const mac = unhex(hmacHex ?? '');
  const ciphertext = unhex(cipherHex ?? '');
  return salt && mac && ciphertext && mac.length === 32 ? { salt, mac, ciphertext } : null;
}

/** The plaintext, or null when this password does not open it (HMAC mismatch). */
function tryDecrypt({ salt, mac, ciphertext }: VaultBody, password: string): string | null {
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, 10000, 80, 'sha256');
  const expected = createHmac('sha256', key.subarray(32, 64)).update(ciphertext).digest();
  if (!timingSafeEqual(expected, mac)) return null;
  const decipher = createDecipheriv('aes-256-ctr', key.subarray(0, 32), key.subarray(64, 80));
  const padded = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  const pad = padded[padded.length - 1] ?? 0;
  const plain = pad >= 1 && pad <= 16 ? padded.subarray(0, padded.length - pad) : padded;
  return plain.toString('utf8');
}

/**
 * Decrypt vault data. `where` names it in messages (a file, or the position of an inline value); errors are
 * ConfigErrors saying which option to pass (no password) or that the passwords given do not open it.
 */
export function decryptVault(text: string, where: SourcePosition): string {
  const [first = '', ...rest] = text.trim().split('\n');
  const header = HEADER.exec(first.trim());
  const label = where.line > 1 || where.column > 1 ? 'this !vault value' : 'this file';
  if (!header)
    throw new ConfigError([
      {
        position: where,
        message: 'this is not ansible-vault data (the first line is not $ANSIBLE_VAULT;1.1;AES256 or ;1.2;AES256;ID)',
        hint: 'encrypt it again with ansible-vault encrypt / encrypt_string',
      },
    ]);
  const vaultId = header[2];
  if (secrets.length === 0)
    throw new ConfigError([
      {
        position: where,
        message: `${label} is encrypted with ansible-vault${vaultId ? ` (vault id ${vaultId})` : ''} and no vault password was given`,
        hint: NO_PASSWORD_HINT,
      },
    ]);
  const hex = unhex(rest.join(''));
  const body = hex && splitBody(hex);
  if (!body)
    throw new ConfigError([
      {
        position: where,
        message: `${label} holds ansible-vault data that is not in the vault format (hex of salt, HMAC and ciphertext)`,
        hint: 'encrypt it again with ansible-vault',
      },
    ]);
  const ordered = vaultId
    ? [...secrets.filter((s) => s.id === vaultId), ...secrets.filter((s) => s.id !== vaultId)]
    : secrets;
  for (const s of ordered) {
    const plain = tryDecrypt(body, s.password);
    if (plain !== null) return plain;
  }
  throw new ConfigError([
    {
      position: where,
      message: `${label} is encrypted with ansible-vault${vaultId ? ` (vault id ${vaultId})` : ''} and none of the vault passwords given (${secrets.map((s) => s.source).join(', ')}) decrypts it`,
      hint: 'check the password, or pass the one for this vault id with --vault-id ID@FILE',
    },
  ]);
}
