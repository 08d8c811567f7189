/** Latency summary of per-image times: percentiles as numpy's default (linear interpolation), mean and population std. */
import type { LatencySection } from './types';

/**
 * numpy.percentile(values, p) with method='linear': position h = (n − 1) · p / 100 in the sorted values, and the
 * value linearly interpolated between the closest ranks ⌊h⌋ and ⌈h⌉. (The run summary's nearest-rank values can differ.)
 */
export function percentileLinear(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const h = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  const a = sorted[lo] as number;
  return a + ((sorted[hi] as number) - a) * (h - lo);
}

export function latencyStats(values: readonly number[]): LatencySection {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = n === 0 ? null : sorted.reduce((a, b) => a + b, 0) / n;
  const std = mean === null ? null : Math.sqrt(sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return {
    p50: percentileLinear(sorted, 50),
    p90: percentileLinear(sorted, 90),
    p95: percentileLinear(sorted, 95),
    p99: percentileLinear(sorted, 99),
    max: n === 0 ? null : (sorted[n - 1] as number),
    mean,
    std,
    count: n,
  };
}
