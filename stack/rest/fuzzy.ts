/**
 * PostgREST's "Perhaps you meant …" hints: the closest known name scoring at least 0.75, where the
 * score is 1 − Levenshtein distance / longer length (the re-scoring Haskell's fuzzyset applies).
 */
export function closestName(name: string, candidates: string[], minScore = 0.75): string | undefined {
  let best: string | undefined;
  let bestScore = minScore;
  const needle = name.toLowerCase();
  for (const candidate of candidates) {
    const hay = candidate.toLowerCase();
    const longest = Math.max(needle.length, hay.length);
    if (longest === 0) continue;
    const score = 1 - levenshtein(needle, hay) / longest;
    if (score >= bestScore && (best === undefined || score > bestScore)) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min(row[j - 1]! + 1, prev[j]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[b.length]!;
}
