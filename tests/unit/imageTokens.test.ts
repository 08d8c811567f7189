// GPT-4o image sizing and token arithmetic, checked against the worked examples in OpenAI's vision guide.

import { describe, expect, it } from 'vitest';

import { estimateImageTokens, resolveDetail, targetSize } from '../../shared/preprocess';

describe('estimateImageTokens', () => {
  it('matches the examples in the OpenAI vision guide', () => {
    // "A 1024 x 1024 square image in detail: high mode costs 765 tokens"
    expect(estimateImageTokens(1024, 1024, 'high')).toBe(765);
    // "A 2048 x 4096 image in detail: high mode costs 1105 tokens" (scaled to 768x1536, 6 tiles)
    expect(estimateImageTokens(2048, 4096, 'high')).toBe(1105);
    // "A 4096 x 8192 image in detail: low most costs 85 tokens"
    expect(estimateImageTokens(4096, 8192, 'low')).toBe(85);
  });

  it('charges one tile for an image that fits a single 512px tile and is not enlarged', () => {
    expect(estimateImageTokens(128, 64, 'high')).toBe(85 + 170);
    expect(estimateImageTokens(512, 512, 'high')).toBe(85 + 170);
    expect(estimateImageTokens(1, 1, 'high')).toBe(85 + 170);
  });

  it('counts partial tiles as whole ones', () => {
    expect(estimateImageTokens(513, 512, 'high')).toBe(85 + 170 * 2);
    // 1920x1080 → 1365x768 → 3 x 2 tiles
    expect(estimateImageTokens(1920, 1080, 'high')).toBe(85 + 170 * 6);
    // 4032x3024 phone photo → 1024x768 → 2 x 2 tiles
    expect(estimateImageTokens(4032, 3024, 'high')).toBe(765);
  });

  it('costs a huge image no more than its scaled copy', () => {
    const huge = estimateImageTokens(20000, 15000, 'high');
    const scaled = targetSize(20000, 15000, 'high');
    expect(huge).toBe(estimateImageTokens(scaled.width, scaled.height, 'high'));
    // A long strip: 10000x10 → 2048x2, four tiles in a row.
    expect(estimateImageTokens(10000, 10, 'high')).toBe(85 + 170 * 4);
  });

  it('refuses dimensions that are not a real image', () => {
    expect(() => estimateImageTokens(0, 10, 'high')).toThrow(RangeError);
    expect(() => estimateImageTokens(10, Number.NaN, 'low')).toThrow(RangeError);
  });
});

describe('targetSize', () => {
  it('scales high detail into 2048x2048, then to a shortest side of 768', () => {
    expect(targetSize(2048, 4096, 'high')).toEqual({ width: 768, height: 1536 });
    expect(targetSize(1024, 1024, 'high')).toEqual({ width: 768, height: 768 });
    expect(targetSize(4032, 3024, 'high')).toEqual({ width: 1024, height: 768 });
    expect(targetSize(3024, 4032, 'high')).toEqual({ width: 768, height: 1024 });
  });

  it('fits low detail inside 512x512', () => {
    expect(targetSize(4096, 8192, 'low')).toEqual({ width: 256, height: 512 });
    expect(targetSize(4032, 3024, 'low')).toEqual({ width: 512, height: 384 });
  });

  it('never enlarges a small or tiny image', () => {
    expect(targetSize(300, 200, 'high')).toEqual({ width: 300, height: 200 });
    expect(targetSize(300, 200, 'low')).toEqual({ width: 300, height: 200 });
    expect(targetSize(1, 1, 'high')).toEqual({ width: 1, height: 1 });
    expect(targetSize(1, 1, 'low')).toEqual({ width: 1, height: 1 });
  });

  it('keeps both sides at least one pixel for extreme aspect ratios', () => {
    expect(targetSize(10000, 10, 'high')).toEqual({ width: 2048, height: 2 });
    expect(targetSize(10, 10000, 'low')).toEqual({ width: 1, height: 512 });
    expect(targetSize(100000, 1, 'low')).toEqual({ width: 512, height: 1 });
  });

  it('always lands within the limits, keeps the aspect ratio, and is stable when applied again', () => {
    const sides = [1, 7, 333, 511, 512, 513, 767, 768, 769, 1000, 1999, 2048, 2049, 3000, 4095, 6000, 12345];
    for (const w of sides) {
      for (const h of sides) {
        for (const detail of ['low', 'high'] as const) {
          const t = targetSize(w, h, detail);
          expect(t.width).toBeLessThanOrEqual(w);
          expect(t.height).toBeLessThanOrEqual(h);
          expect(Math.max(t.width, t.height)).toBeLessThanOrEqual(detail === 'low' ? 512 : 2048);
          if (detail === 'high') {
            expect(Math.min(t.width, t.height)).toBeLessThanOrEqual(768);
          }
          // Rounding each side moves the ratio by at most about one pixel on the short side.
          if (t.width > 1 && t.height > 1) {
            expect(Math.abs(t.width / t.height - w / h)).toBeLessThanOrEqual((w / h) * (1 / Math.min(t.width, t.height)) + 1e-9);
          }
          // Sending the resized image costs what the original would: the service rescales to the same size.
          expect(targetSize(t.width, t.height, detail)).toEqual(t);
          expect(estimateImageTokens(t.width, t.height, detail)).toBe(estimateImageTokens(w, h, detail));
        }
      }
    }
  });
});

describe('resolveDetail', () => {
  it('resolves auto to low when the image fits one 512px tile, else high', () => {
    expect(resolveDetail(512, 300, 'auto')).toBe('low');
    expect(resolveDetail(1, 1, 'auto')).toBe('low');
    expect(resolveDetail(513, 10, 'auto')).toBe('high');
    expect(resolveDetail(10, 4000, 'auto')).toBe('high');
  });

  it('keeps an explicit choice', () => {
    expect(resolveDetail(100, 100, 'high')).toBe('high');
    expect(resolveDetail(4000, 3000, 'low')).toBe('low');
  });
});
