/**
 * Secrets never reach the journal: values under keys that name a secret are replaced, the power driver's
 * settings keep only the fields that say where it points, and every value of the run's SecretSet is scrubbed
 * from every string (keys included). Undo records are the one exception (journal.ts keeps their file bytes exact).
 */
import { isSecretName } from '../secrets/secret-names.js';
import { SCRUBBED, type SecretSet } from '../secrets/secret-set.js';

export const REDACTED = SCRUBBED;

const POWER_SAFE_KEYS = new Set(['driver', 'socket', 'url', 'system', 'host', 'port']);

/** Whether a variable or option name names a secret (by name segments: `api_pw`, `dbPassword`, not `bypass`). */
export function isSecretKey(key: string): boolean {
  return isSecretName(key);
}

function byKey(value: unknown, depth: number): unknown {
  if (depth > 32) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => byKey(v, depth + 1));
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'rollgate_power' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      out[key] = Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map(([k, pv]) => [
          k,
          POWER_SAFE_KEYS.has(k) ? byKey(pv, depth + 2) : REDACTED,
        ]),
      );
    } else if (isSecretKey(key)) out[key] = REDACTED;
    else out[key] = byKey(v, depth + 1);
  }
  return out;
}

/** A deep copy with every value under a secret name replaced by REDACTED and every known secret value scrubbed. */
export function redactSecrets<T>(value: T, secrets?: SecretSet): T {
  const keyed = byKey(value, 0) as T;
  return secrets ? secrets.scrub(keyed) : keyed;
}

/** Free text (a step's message, a host's status detail) with every known secret value scrubbed. */
export function redactText(text: string, secrets?: SecretSet): string;
export function redactText(text: string | null | undefined, secrets?: SecretSet): string | null | undefined;
export function redactText(text: string | null | undefined, secrets?: SecretSet): string | null | undefined {
  return text === null || text === undefined || !secrets ? text : secrets.scrubText(text);
}
