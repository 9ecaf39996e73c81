/**
 * "did you mean …?" suggestions for misspelt names (keys, groups, hosts, modules), by Levenshtein distance.
 */
import { distance } from 'fastest-levenshtein';

/**
 * The candidate closest to `word`, or undefined when none is close enough to be a plausible typo.
 * Close enough: at most a third of the word's length in edits, rounded up (minimum 1, maximum `maxDistance`, default 3).
 * Case differences count as one edit at most, so `Hosts` finds `hosts`.
 */
export function closestName(word: string, candidates: Iterable<string>, maxDistance = 3): string | undefined {
  const limit = Math.min(maxDistance, Math.max(1, Math.ceil(word.length / 3)));
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const score = candidate.toLowerCase() === word.toLowerCase() ? 0.5 : distance(word, candidate);
    if (score <= limit && score < word.length && score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/** 'did you mean `hosts`?' or undefined when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>, maxDistance?: number): string | undefined {
  const best = closestName(word, candidates, maxDistance);
  return best === undefined ? undefined : `did you mean \`${best}\`?`;
}

/** "`a` / `b` / `c`" for listing what is allowed. */
export function listChoices(choices: readonly string[]): string {
  return choices.map((c) => `\`${c}\``).join(' / ');
}
