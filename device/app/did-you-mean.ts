/*
 * "Did you mean" hints for configuration mistakes: the known word nearest to a mistyped one
 * (edit distance 2 or less, or the known word starting with it). Runs only when a
 * configuration is checked; pure functions.
 */

/** `; did you mean "x"?` for the candidate nearest to `word` (edit distance 2 or less, or `word` starting it), else "". */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const near = nearest(word, candidates);
  return near === undefined ? "" : "; did you mean " + JSON.stringify(near) + "?";
}

function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined || lower.length < 3) return best;
  for (const candidate of candidates) if (candidate.toLowerCase().startsWith(lower)) return candidate;
  return undefined;
}

/** Levenshtein distance (insert, delete, replace one character). */
function editDistance(from: string, to: string): number {
  let previous: number[] = [];
  for (let j = 0; j <= to.length; j++) previous.push(j);
  for (let i = 1; i <= from.length; i++) {
    const current = [i];
    for (let j = 1; j <= to.length; j++) {
      const replace = previous[j - 1] + (from.charCodeAt(i - 1) === to.charCodeAt(j - 1) ? 0 : 1);
      current.push(Math.min(replace, previous[j] + 1, current[j - 1] + 1));
    }
    previous = current;
  }
  return previous[to.length];
}
