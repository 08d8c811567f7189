/** Latency histograms and the counter arithmetic behind GET /api/stats. */
import { describe, expect, it } from 'vitest';

import { bucketOf, emptyHistogram, LATENCY_BUCKETS_MS, percentile } from '../../shared/stats';
import { addCounters, countersOf, emptyCounters, reviewEntryOf } from '../../shared/stats/statsCounters';
import type { ImageDocument } from '../../shared/store';

function histogramOf(values: number[]): number[] {
  const h = emptyHistogram();
  for (const v of values) {
    const i = bucketOf(v);
    if (i !== undefined) h[i] = (h[i] ?? 0) + 1;
  }
  return h;
}

describe('latency buckets', () => {
  it('put a duration in the first bucket that holds it, and the slowest in the open-ended one', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(50)).toBe(0);
    expect(bucketOf(51)).toBe(1);
    expect(bucketOf(4999)).toBe(LATENCY_BUCKETS_MS.indexOf(5000));
    expect(bucketOf(10 * 60_000)).toBe(LATENCY_BUCKETS_MS.length);
    expect(bucketOf(-1)).toBeUndefined();
    expect(bucketOf(Number.NaN)).toBeUndefined();
  });

  it('give percentiles as the upper bound of the bucket the rank falls in', () => {
    // 90 fast calls (~120 ms) and 10 slow ones (~4 s): the median is fast, p90 the last fast bucket, p99 slow.
    const h = histogramOf([...Array<number>(90).fill(120), ...Array<number>(10).fill(4000)]);
    expect(percentile(h, 0.5)).toBe(200);
    expect(percentile(h, 0.9)).toBe(200);
    expect(percentile(h, 0.99)).toBe(5000);
    expect(percentile(emptyHistogram(), 0.5)).toBeNull();
    expect(percentile(histogramOf([120_000]), 0.5)).toBeNull();
  });
});

const doc = (over: Partial<ImageDocument>): ImageDocument => ({
  id: 'a'.repeat(32),
  type: 'image',
  blob: { container: 'images', name: 'x.jpg', url: 'http://x/x.jpg', eTag: '"0x1"', contentLength: 1, contentType: 'image/jpeg', sequencer: null },
  profile: { name: 'pets', version: '1' },
  status: 'classified',
  result: null,
  labels: ['cat'],
  confidence: 0.9,
  confidenceSource: null,
  model: null,
  usage: { promptTokens: 100, completionTokens: 10, costUsd: 0.00035, modelCalls: 1 },
  timings: { downloadMs: 3, preprocessMs: 4, modelMs: 800, totalMs: 900 },
  image: null,
  error: null,
  source: { eventId: null, eventTime: null },
  createdAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-01T10:00:00.000Z',
  ...over,
});

describe('counters', () => {
  it('treat label and profile names from outside as plain keys, __proto__ included', () => {
    const a = countersOf(doc({ labels: ['__proto__', 'constructor'], profile: { name: '__proto__', version: '1' } }));
    const sum = addCounters(addCounters(emptyCounters(), a), a);
    expect(Object.getPrototypeOf(sum.byLabel)).toBe(Object.prototype);
    expect(Object.entries(sum.byLabel)).toEqual([
      ['__proto__', 2],
      ['constructor', 2],
    ]);
    expect(Object.entries(sum.byProfile)).toEqual([['__proto__', { results: 2, byStatus: { classified: 2 } }]]);
  });

  it('add costs without binary noise and count cache hits, throttling and redeliveries', () => {
    let c = emptyCounters();
    for (let i = 0; i < 10; i++) c = addCounters(c, countersOf(doc({ usage: { promptTokens: 1, completionTokens: 1, costUsd: 0.1, modelCalls: 1 } })));
    expect(c.costUsd).toBe(1);
    const t = countersOf(doc({ status: 'failed', error: { code: 'model_throttled', message: '' }, attempts: 3, cached: { documentId: null, at: '' } }));
    expect(t).toMatchObject({ throttled: 1, retried: 1, cached: 1, byStatus: { failed: 1 } });
  });

  it('judge a review as agreement only when the person kept exactly the model labels', () => {
    const reviewed = (labels: string[]): ImageDocument =>
      doc({ labels: ['cat', 'indoor'], review: { result: { kind: 'multi-label', labels: [] }, labels, reviewer: null, note: null, reviewedAt: '2026-12-01T11:00:00.000Z' } });
    expect(reviewEntryOf(reviewed(['indoor', 'cat']))).toMatchObject({ agreed: true, labels: { cat: true, indoor: true } });
    expect(reviewEntryOf(reviewed(['cat']))).toMatchObject({ agreed: false, labels: { cat: true, indoor: false } });
    expect(reviewEntryOf(doc({}))).toBeUndefined();
  });
});
