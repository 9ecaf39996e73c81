/**
 * A guard against YAML alias bombs ("billion laughs"): aliases share one object, so a small file can stand
 * for billions of values once walked. Count the values a document expands to, memoised per shared object,
 * and refuse documents past a limit before anything walks them.
 */

/** Documents expanding to more values than this are refused (a large real playbook has a few thousand). */
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
