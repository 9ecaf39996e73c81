/**
 * A guard against YAML alias bombs ("billion laughs"): aliases share one object, so a small file can stand
 * for billions of values once walked. Count the values a document expands to, memoised per shared object,
 * and refuse documents past a limit before anything walks them.
 */

/** Aliases may add at most this many values beyond those written (a large real playbook has a few thousand values). */
export const MAX_EXPANDED_VALUES = 200_000;

/** How many values walking `value` visits, counting shared (aliased) objects once per reference; stops early past `limit`. */
export function expandedSize(value: unknown, limit = MAX_EXPANDED_VALUES): number {
  const memo = new Map<object, number>();
  const visit = (v: unknown, depth: number): number => {
    if (typeof v !== 'object' || v === null) return 1;
    if (depth > 200) return limit + 1; // deeper than any real playbook; also stops self-referencing aliases
    const known = memo.get(v);
    if (known !== undefined) return known;
    let total = 1;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      total += visit(child, depth + 1);
      if (total > limit) break;
    }
    memo.set(v, total);
    return total;
  };
  return visit(value, 0);
}

/** How many values the document holds as written: each shared (aliased) object counted once. */
export function writtenSize(value: unknown): number {
  const seen = new Set<object>();
  const visit = (v: unknown): number => {
    if (typeof v !== 'object' || v === null) return 1;
    if (seen.has(v)) return 1; // the alias itself
    seen.add(v);
    let total = 1;
    for (const child of Array.isArray(v) ? v : Object.values(v)) total += visit(child);
    return total;
  };
  return visit(value);
}

/**
 * True when aliases make the document expand to more than MAX_EXPANDED_VALUES values beyond those written: a
 * large inventory written out is fine (its size is bounded by the input size limit), a "billion laughs" is not.
 */
export function expandsTooFar(value: unknown): boolean {
  const written = writtenSize(value);
  return expandedSize(value, written + MAX_EXPANDED_VALUES) > written + MAX_EXPANDED_VALUES;
}
