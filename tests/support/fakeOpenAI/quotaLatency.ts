/**
 * Model latency for the fake deployment: a shifted log-normal fitted, by computation here, to the published
 * reference (GPT-4o, 600 images, detail low, sequential), so the fake answers as slowly as the real service.
 */

/** The reference study's latency figures in milliseconds. */
export const REFERENCE_LATENCY_MS = { p50: 1_629, p90: 1_964, p95: 2_183, p99: 2_737, min: 1_054, max: 4_694 } as const;

export interface LatencyQuantile {
  /** Probability in (0, 1), e.g. 0.9 for p90. */
  p: number;
  ms: number;
}

export interface ShiftedLogNormal {
  /** Latency = shiftMs + exp(mu + sigma·Z), Z standard normal. */
  shiftMs: number;
  mu: number;
  sigma: number;
  /** Draws outside [minMs, maxMs] (the reference's observed range) are drawn again. */
  minMs: number;
  maxMs: number;
}

/**
 * Least squares in log space: for a shift s, ln(q − s) = mu + sigma·z_p is a straight line in the normal quantile z_p,
 * so mu and sigma follow by linear regression; s itself is found by golden-section search on [0, min) (the shift
 * must stay below the fastest observed answer).
 */
export function fitShiftedLogNormal(quantiles: readonly LatencyQuantile[], minMs: number, maxMs: number): ShiftedLogNormal {
  if (quantiles.length < 2) throw new Error('fitting a shifted log-normal needs at least two quantiles');
  const zs = quantiles.map((q) => normalQuantile(q.p));
  const line = (shift: number): { mu: number; sigma: number; sse: number } => {
    const ys = quantiles.map((q) => Math.log(q.ms - shift));
    const n = ys.length;
    const zMean = zs.reduce((a, b) => a + b, 0) / n;
    const yMean = ys.reduce((a, b) => a + b, 0) / n;
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < n; i++) {
      sxy += ((zs[i] ?? 0) - zMean) * ((ys[i] ?? 0) - yMean);
      sxx += ((zs[i] ?? 0) - zMean) ** 2;
    }
    const sigma = sxy / sxx;
    const mu = yMean - sigma * zMean;
    // Residuals in milliseconds, not logs: the figures people compare are the quantiles themselves.
    const sse = quantiles.reduce((sum, q, i) => sum + (shift + Math.exp(mu + sigma * (zs[i] ?? 0)) - q.ms) ** 2, 0);
    return { mu, sigma, sse };
  };
  const lowest = Math.min(minMs, ...quantiles.map((q) => q.ms));
  let a = 0;
  let b = lowest - 1;
  const phi = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 200 && b - a > 1e-6; i++) {
    const c = b - phi * (b - a);
    const d = a + phi * (b - a);
    if (line(c).sse < line(d).sse) b = d;
    else a = c;
  }
  const shiftMs = (a + b) / 2;
  const { mu, sigma } = line(shiftMs);
  return { shiftMs, mu, sigma, minMs, maxMs };
}

/** The fit of the reference study's p50, p90, p95 and p99, bounded by its min and max. */
export function referenceLatency(): ShiftedLogNormal {
  const r = REFERENCE_LATENCY_MS;
  return fitShiftedLogNormal(
    [
      { p: 0.5, ms: r.p50 },
      { p: 0.9, ms: r.p90 },
      { p: 0.95, ms: r.p95 },
      { p: 0.99, ms: r.p99 },
    ],
    r.min,
    r.max,
  );
}

/** A sampler over the fitted distribution; `random` is injectable so tests can seed it. */
export function latencySampler(d: ShiftedLogNormal, random: () => number = Math.random): () => number {
  return () => {
    for (let i = 0; i < 100; i++) {
      const ms = d.shiftMs + Math.exp(d.mu + d.sigma * standardNormal(random));
      if (ms >= d.minMs && ms <= d.maxMs) return ms;
    }
    return d.shiftMs + Math.exp(d.mu);
  };
}

/** Box–Muller. */
function standardNormal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Acklam's rational approximation of the standard normal quantile (relative error below 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normal quantile needs 0 < p < 1, got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  const poly = (k: readonly number[], x: number): number => k.reduce((acc, v) => acc * x + v, 0);
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -poly(c, q) / (poly(d, q) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}
