/**
 * "Did you mean" for misspelt names: the closest candidate by edit distance, when it is close enough to be
 * a plausible typo (at most a third of the word's length, and at most 3 edits).
 */
import { distance } from 'fastest-levenshtein';

/** The closest candidate to `word`, or undefined when none is plausibly what was meant. */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === lower ? 0 : distance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/** "Did you mean `x`?" or undefined. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const match = closestMatch(word, candidates);
  return match === undefined ? undefined : `Did you mean \`${match}\`?`;
}

/** "`a` / `b` / `c`" for listing what is allowed. */
export function listChoices(choices: readonly string[]): string {
  return choices.map((c) => `\`${c}\``).join(' / ');
}
