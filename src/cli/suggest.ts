// "Did you mean …?": the closest known word to a mistyped option or command.

/** Levenshtein distance (insertions, deletions, substitutions; a swap of two neighbours counts 1). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The known word closest to `given`, or null when none is close: a unique word that `given`
 * starts (`--ver` → `--verbose`), else the nearest within a third of its length (at least 2 edits).
 */
export function closest(given: string, known: readonly string[]): string | null {
  const prefixed = known.filter((word) => given.length >= 3 && word.startsWith(given));
  if (prefixed.length === 1) return prefixed[0]!;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const word of known) {
    const distance = editDistance(given, word);
    if (distance < bestDistance) [best, bestDistance] = [word, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(given.length / 3)) ? best : null;
}
