/**
 * A fact either was read, or is explicitly unknown with the reason (tool missing, permission denied, file
 * absent). Never a silent default: rules and the diff treat `unknown` as "cannot say", not as false or empty.
 */
export type Known<T> = { status: 'ok'; value: T } | { status: 'unknown'; reason: string };

export function known<T>(value: T): Known<T> {
  return { status: 'ok', value };
}

export function unknown<T = never>(reason: string): Known<T> {
  return { status: 'unknown', reason };
}

/** The value, or undefined when unknown. */
export function valueOf<T>(k: Known<T> | undefined): T | undefined {
  return k && k.status === 'ok' ? k.value : undefined;
}

/** Map a known value; unknown passes through with its reason. */
export function mapKnown<T, U>(k: Known<T>, f: (value: T) => U): Known<U> {
  return k.status === 'ok' ? known(f(k.value)) : k;
}
