/**
 * ssh_config PATTERNS as OpenSSH matches them (match.c): `*` and `?` wildcards, `!` negation that vetoes the
 * whole list, host names compared case-insensitively. Used by the Host and Match evaluation in ssh-config-eval.ts.
 */

function wildcard(pattern: string, text: string, ignoreCase: boolean): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, ignoreCase ? 'is' : 's').test(text);
}

/**
 * One list of patterns (the words of a `Host` line, or a `Match host a,b,!c` comma list): true when a positive
 * pattern matches and no negated one does.
 */
export function matchPatterns(patterns: readonly string[], text: string, ignoreCase: boolean): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (wildcard(p.slice(1), text, ignoreCase)) return false;
    } else if (wildcard(p, text, ignoreCase)) matched = true;
  }
  return matched;
}

/** `a,b,!c` -> ['a', 'b', '!c']. */
export function patternList(value: string): string[] {
  return value.split(',').filter((p) => p !== '');
}
