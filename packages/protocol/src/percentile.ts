/**
 * Nearest-rank percentile `p` (0–100) of already sorted values: the value at index ⌊p/100 · n⌋ (the last one for
 * p = 100); undefined when there are none. The one definition every figure here uses (SDK stats, session history,
 * the CLI, benches), so they agree.
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number | undefined {
  const n = sorted.length;
  if (n === 0) return undefined;
  return sorted[Math.min(n - 1, Math.max(0, Math.floor((p / 100) * n)))];
}

/** Nearest-rank percentile `p` (0–100) of `values` (not modified); undefined when there are none. */
export function percentile(values: ArrayLike<number>, p: number): number | undefined {
  return percentileOfSorted(Float64Array.from(values).sort(), p);
}
