import { describe, expect, it } from 'vitest';

import { latencySampler, normalQuantile, REFERENCE_LATENCY_MS, referenceLatency } from '../support/fakeOpenAI/quotaLatency';

/** A seeded generator (Park–Miller) so the test draws the same samples every run. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 48_271) % 2_147_483_647;
    return s / 2_147_483_647;
  };
}

describe('the fake deployment’s latency distribution', () => {
  it('computes the normal quantiles it fits with', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326348, 5);
  });

  it('draws latencies whose p50, p90, p95 and p99 are within 5 % of the reference study, inside its min and max', () => {
    const d = referenceLatency();
    expect(d.shiftMs).toBeGreaterThan(0);
    expect(d.shiftMs).toBeLessThan(REFERENCE_LATENCY_MS.min);
    const draw = latencySampler(d, seeded(12_345));
    const xs = Array.from({ length: 40_000 }, draw).sort((a, b) => a - b);
    const q = (p: number): number => xs[Math.floor(p * (xs.length - 1))] ?? Number.NaN;
    for (const [p, ref] of [
      [0.5, REFERENCE_LATENCY_MS.p50],
      [0.9, REFERENCE_LATENCY_MS.p90],
      [0.95, REFERENCE_LATENCY_MS.p95],
      [0.99, REFERENCE_LATENCY_MS.p99],
    ] as const) {
      expect(Math.abs(q(p) - ref) / ref, `p${p * 100}: ${q(p).toFixed(0)} ms vs ${ref} ms`).toBeLessThan(0.05);
    }
    expect(xs[0]).toBeGreaterThanOrEqual(REFERENCE_LATENCY_MS.min);
    expect(xs.at(-1)).toBeLessThanOrEqual(REFERENCE_LATENCY_MS.max);
  });
});
