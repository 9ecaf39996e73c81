/**
 * Which variable and option names hold a secret, by name segments (`db_password`, `apiToken`, `api-key`,
 * `vault_db_pw`): a whole-word match, so `bypass`, `compass` and `passthrough_devices` are not secrets, while the
 * long words (`password`, `passphrase`, `credential`, `apikey`, `secret`) count inside a glued word (`rootpassword`).
 */

/** Segments that name a secret on their own. */
const WHOLE = new Set([
  'pw',
  'pwd',
  'pass',
  'passwd',
  'token',
  'tokens',
  'cred',
  'creds',
  'vault',
  'privkey',
  'psk',
  'otp',
]);
/** Words that name a secret even inside a longer segment. */
const INSIDE = ['password', 'passphrase', 'passwd', 'credential', 'apikey', 'secret'];
/** Two adjacent segments that name a secret (`private_key`, `api_key`, `access_key`, `auth_key`). */
const PAIRS = new Set(['private key', 'api key', 'access key', 'auth key', 'signing key', 'session key']);
/**
 * A last segment that says the value names where a secret is, or describes it, rather than being it:
 * `password_env` holds an environment variable's name, `vault_password_file` a path, `token_ttl` a duration.
 */
const ABOUT = new Set([
  'env',
  'file',
  'files',
  'path',
  'dir',
  'name',
  'user',
  'username',
  'length',
  'len',
  'ttl',
  'timeout',
  'enabled',
  'mode',
  'policy',
  'type',
  'format',
  'algorithm',
  'rounds',
]);

/** `apiToken` / `API_TOKEN` / `api-token` / `api.token` -> ['api', 'token']. */
export function nameSegments(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((s) => s !== '');
}

const cache = new Map<string, boolean>();

/** Whether a variable or option name names a secret (its value must never be shown or stored). */
export function isSecretName(name: string): boolean {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const segments = nameSegments(name);
  const last = segments[segments.length - 1];
  const secret =
    (last === undefined || !ABOUT.has(last) || segments.length === 1) &&
    segments.some(
      (s, i) => WHOLE.has(s) || INSIDE.some((w) => s.includes(w)) || (i > 0 && PAIRS.has(`${segments[i - 1]} ${s}`)),
    );
  if (cache.size < 10_000) cache.set(name, secret);
  return secret;
}
