/**
 * "Did you mean": the known name closest to a misspelt one (`concurency` → `concurrency`,
 * `maxattempts` → `maxAttempts`), or null when none is close. Case is ignored; close means at
 * most two edits (Levenshtein) and fewer than half the name's letters.
 */
export function closestName(name: string, known: readonly string[]): string | null {
  const wanted = name.toLowerCase();
  let best: { name: string; distance: number } | null = null;
  for (const candidate of known) {
    const d = editDistance(wanted, candidate.toLowerCase());
    if (d <= 2 && d < wanted.length / 2 && (best === null || d < best.distance)) best = { name: candidate, distance: d };
  }
  return best?.name ?? null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
