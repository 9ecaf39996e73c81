/**
 * Bugs, told apart from bad input and from failures on hosts: the CLI prints a bug with its stack and "please
 * report" (exit 70), and never as a user's mistake or a host's failure.
 */

/** A state the code's own invariants rule out (a bug in rollgate, not bad input: that is a ConfigError). */
export class InternalError extends Error {
  override readonly name = 'InternalError';
}

/**
 * Whether a thrown value is a bug: an InternalError, one of JavaScript's own programming errors (reading a
 * property of undefined, calling a non-function, a bad array length …), or a thrown non-Error.
 */
export function isBug(err: unknown): boolean {
  return (
    err instanceof InternalError ||
    err instanceof TypeError ||
    err instanceof ReferenceError ||
    err instanceof RangeError ||
    err instanceof SyntaxError ||
    !(err instanceof Error)
  );
}
