/**
 * Latency as fixed histogram buckets: counters can only add, and neither Cosmos DB nor the emulator can compute a
 * percentile, so each duration is counted in the first bucket whose upper bound holds it and percentiles are read off
 * the cumulative counts (to the bucket's upper bound: an over-estimate by at most one bucket width).
 */

/** Upper bounds, ms. The last bucket (index LATENCY_BUCKETS_MS.length) holds everything slower. */
export const LATENCY_BUCKETS_MS: readonly number[] = [50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 60_000];

/** Buckets per histogram, the open-ended last one included. */
export const BUCKET_COUNT = LATENCY_BUCKETS_MS.length + 1;

export function emptyHistogram(): number[] {
  return new Array<number>(BUCKET_COUNT).fill(0);
}

/** Index of the bucket a duration falls in; negative or non-finite durations are not counted (undefined). */
export function bucketOf(ms: number): number | undefined {
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  const i = LATENCY_BUCKETS_MS.findIndex((upper) => ms <= upper);
  return i === -1 ? LATENCY_BUCKETS_MS.length : i;
}

/** Element-wise sum; a histogram stored with another bucket count (an older layout) adds only where they overlap. */
export function addHistograms(a: readonly number[], b: readonly number[]): number[] {
  const out = emptyHistogram();
  for (let i = 0; i < BUCKET_COUNT; i++) out[i] = (a[i] ?? 0) + (b[i] ?? 0);
  return out;
}

/**
 * The p-quantile (0 < p <= 1) as the upper bound of the bucket the p-th observation falls in; null without
 * observations, and null for the open-ended bucket (slower than the last bound: no honest upper value).
 */
export function percentile(histogram: readonly number[], p: number): number | null {
  const total = histogram.reduce((s, n) => s + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= rank) return LATENCY_BUCKETS_MS[i] ?? null;
  }
  return null;
}
