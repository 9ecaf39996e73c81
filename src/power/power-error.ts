/**
 * Power control failures as values with a kind, and the one place secrets are scrubbed from any text a driver
 * passes on (tool output, HTTP bodies): a BMC that echoes the password back must not put it in our messages.
 */

export type PowerFailureKind = 'unreachable' | 'auth' | 'tls' | 'timeout' | 'refused' | 'protocol';

export class PowerError extends Error {
  override readonly name = 'PowerError';
  constructor(
    readonly kind: PowerFailureKind,
    message: string,
    /** Whether trying again can help (wrong credentials or a refused action never do). */
    readonly retryable: boolean = kind === 'unreachable' || kind === 'timeout',
  ) {
    super(message);
  }
}

/** Replace every occurrence of each secret (and its base64 forms, as in Basic auth headers) with ***. */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (!s) continue;
    const forms = [s, Buffer.from(s).toString('base64'), encodeURIComponent(s)];
    for (const f of forms) if (f.length >= 3) out = out.split(f).join('***');
  }
  return out;
}

/** The last few lines of a tool's output, for messages. */
export function tail(text: string, lines = 3): string {
  return text.trim().split('\n').slice(-lines).join(' | ');
}
