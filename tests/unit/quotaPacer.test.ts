import { describe, expect, it } from 'vitest';

import { QuotaPacer } from '../../shared/throughput/QuotaPacer';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('QuotaPacer', () => {
  it('spaces one instance’s requests at its rate and parks what would wait longer than allowed', () => {
    const c = clock();
    // 60,000 TPM at 100 %, alone: 1,000 tokens per second once it has seen the deployment answer.
    const p = new QuotaPacer({ tokensPerMinute: 60_000, maxInstances: 1, utilisation: 1, now: c.now, random: () => 0 });
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = p.reserve(500, 10_000);
      expect(r.kind).toBe('send');
      waits.push(r.waitMs);
    }
    expect(waits).toEqual([0, 500, 1_000, 1_500]);
    const parked = p.reserve(500, 1_000);
    expect(parked).toEqual({ kind: 'park', waitMs: 2_000 });
  });

  it('starts at the fair share of the largest instance count and rises to the whole target when it is the only sender', () => {
    const c = clock();
    const p = new QuotaPacer({ tokensPerMinute: 40_000, maxInstances: 40, utilisation: 1, now: c.now, random: () => 0 });
    expect(p.snapshot().tokensPerMinute).toBe(1_000);
    for (let i = 0; i < 12; i++) {
      const r = p.reserve(500, 60_000);
      if (r.kind !== 'send') throw new Error('parked');
      c.advance(r.waitMs);
      const sentAt = c.now();
      c.advance(100);
      // The deployment has seen only this instance: remaining = TPM − its own tokens of the last minute.
      p.observe({ tokens: 500, sentAt, status: 200, remainingTokens: 40_000 - 500 * (i + 1), remainingRequests: 40 });
    }
    expect(p.snapshot().tokensPerMinute).toBeGreaterThan(39_000);
  });

  it('keeps to its share when the deployment is busy with other instances, and pauses for retry-after-ms on a 429', () => {
    const c = clock();
    const p = new QuotaPacer({ tokensPerMinute: 40_000, maxInstances: 4, utilisation: 1, now: c.now, random: () => 0 });
    for (let i = 0; i < 20; i++) {
      const r = p.reserve(500, 60_000);
      if (r.kind !== 'send') throw new Error('parked');
      c.advance(r.waitMs);
      // Three other instances send as much as this one: the deployment's minute holds four times its tokens.
      p.observe({ tokens: 500, sentAt: c.now(), status: 200, remainingTokens: Math.max(0, 40_000 - 4 * 500 * (i + 1)), remainingRequests: 10 });
    }
    const rate = p.snapshot().tokensPerMinute;
    expect(rate).toBeGreaterThan(8_000);
    expect(rate).toBeLessThan(12_000);
    p.observe({ tokens: 500, sentAt: c.now(), status: 429, retryAfterMs: 5_000 });
    const after = p.reserve(500, 60_000);
    expect(after.kind === 'send' && after.waitMs >= 5_000).toBe(true);
    expect(p.snapshot().throttled).toBe(1);
  });
});
