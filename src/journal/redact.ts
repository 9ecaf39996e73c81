/**
 * Secrets never reach the journal: values under keys that name a secret are replaced, and the power driver's
 * settings keep only the fields that say where it points.
 */

export const REDACTED = '[redacted]';

const SECRET_KEY = /(password|passwd|passphrase|secret|token|credential|private_key|api_key|(^|_)pass$)/i;
const POWER_SAFE_KEYS = new Set(['driver', 'socket', 'url', 'system', 'host', 'port']);

/** Whether a variable or option name names a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A deep copy with every secret value replaced by '[redacted]'. Bounded depth (cycles cut). */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (depth > 32) return REDACTED as T;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1)) as T;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (isSecretKey(key)) out[key] = REDACTED;
    else if (key === 'rollgate_power' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      out[key] = Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map(([k, pv]) => [k, POWER_SAFE_KEYS.has(k) ? redactSecrets(pv, depth + 2) : REDACTED]),
      );
    } else out[key] = redactSecrets(v, depth + 1);
  }
  return out as T;
}
