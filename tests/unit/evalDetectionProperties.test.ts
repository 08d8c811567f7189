import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { evaluateDetection } from '../../shared/eval/detection/evaluateDetection';
import type { Bbox, DetectionImage, DetectionReport, PredBox, TruthBox } from '../../shared/eval/detection/types';

// Boxes on a coarse grid so that exact hits, partial overlaps and misses are all common; sizes span small to large.
const box = fc
  .tuple(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 10 }), fc.constantFrom(10, 20, 30, 40, 80, 120), fc.constantFrom(10, 20, 30, 40, 80, 120))
  .map(([x, y, w, h]): Bbox => [x * 10, y * 10, w, h]);
const category = fc.constantFrom('a', 'b', 'c');
const truthBox = fc.record({ category, bbox: box, crowd: fc.integer({ min: 0, max: 9 }) }).map(({ category: c, bbox, crowd }): TruthBox => ({ category: c, bbox, iscrowd: crowd === 0 }));
const predBox = fc.record({ category, bbox: box, raw: fc.integer({ min: 0, max: 100 }) });
const rawImages = fc.array(fc.record({ truth: fc.array(truthBox, { maxLength: 5 }), predictions: fc.array(predBox, { maxLength: 6 }) }), { minLength: 1, maxLength: 4 });

/** Images with every score distinct and strictly between 0 and 1. */
const images = rawImages.map((list): DetectionImage[] => {
  let n = 0;
  return list.map((img, i) => ({
    image: `img${i}.jpg`,
    truth: img.truth,
    predictions: img.predictions.map((p): PredBox => ({ category: p.category, bbox: p.bbox, score: (p.raw * 1000 + ++n) / 102_000 })),
  }));
});

/** A deterministic shuffle from a seed (mulberry32), for reordering inside a property. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function fractions(report: DetectionReport): (number | null)[] {
  const { AP, AP50, AP75, APsmall, APmedium, APlarge, AR1, AR10, AR100, ARsmall, ARmedium, ARlarge } = report;
  const counts = [report.at50, ...Object.values(report.sizes).map((s) => s.at50), ...Object.values(report.perClass)];
  return [
    AP,
    AP50,
    AP75,
    APsmall,
    APmedium,
    APlarge,
    AR1,
    AR10,
    AR100,
    ARsmall,
    ARmedium,
    ARlarge,
    ...Object.values(report.sizes).flatMap((s) => [s.AP, s.AP50, s.AR100]),
    ...counts.flatMap((c) => [c.precision, c.recall, c.f1]),
    ...Object.values(report.perClass).flatMap((c) => [c.AP, c.AP50, c.AP75]),
    ...Object.values(report.prCurves).flatMap((c) => c.precision),
    ...Object.values(report.scoreThresholds).flatMap((t) => [t.precision, t.reviewShare]),
  ];
}

// 40 cases per property keep the file to about a second on an idle machine; the timeout allows for a loaded one.
const RUNS = { numRuns: 40 };
const TIMEOUT = 30_000;

describe('detection metrics: invariants (fast-check)', () => {
  it('every figure is a fraction in [0, 1] or null, counts are consistent', () => {
    fc.assert(
      fc.property(images, (imgs) => {
        const report = evaluateDetection(imgs);
        expect(fractions(report).filter((v) => v !== null && !(v >= 0 && v <= 1))).toEqual([]);
        const regular = imgs.flatMap((i) => i.truth).filter((t) => t.iscrowd !== true).length;
        expect(report.at50.tp + report.at50.fn).toBe(regular);
        expect(report.at50.tp + report.at50.fp).toBeLessThanOrEqual(imgs.flatMap((i) => i.predictions).length);
      }),
      RUNS,
    );
  }, TIMEOUT);

  it('is unchanged when images or detections (distinct scores) are reordered', () => {
    fc.assert(
      fc.property(images, fc.integer(), (imgs, seed) => {
        const reordered = shuffle(imgs, seed).map((img, i) => ({ ...img, predictions: shuffle(img.predictions, seed + i + 1) }));
        expect(evaluateDetection(reordered)).toEqual(evaluateDetection(imgs));
      }),
      RUNS,
    );
  }, TIMEOUT);

  it('scores 1 for perfect predictions', () => {
    fc.assert(
      fc.property(images, (imgs) => {
        const perfect = imgs.map((img, i) => ({
          ...img,
          predictions: img.truth.filter((t) => t.iscrowd !== true).map((t, j): PredBox => ({ category: t.category, bbox: t.bbox, score: 1 - (i * 10 + j) / 100 })),
        }));
        fc.pre(perfect.some((img) => img.predictions.length > 0));
        const r = evaluateDetection(perfect);
        for (const v of [r.AP, r.AP50, r.AP75, r.AR10, r.AR100]) expect(v).toBeCloseTo(1, 12);
        expect(r.at50.precision).toBe(1);
        expect(r.at50.recall).toBe(1);
        for (const c of Object.values(r.perClass)) if (c.AP !== null) expect(c.AP).toBeCloseTo(1, 12);
      }),
      RUNS,
    );
  }, TIMEOUT);

  it('an extra false positive scored below all others never raises precision at IoU 0.5, and leaves AP as it was', () => {
    fc.assert(
      fc.property(images, fc.nat(), category, (imgs, which, cat) => {
        const scores = imgs.flatMap((i) => i.predictions.map((p) => p.score as number));
        const lowest = scores.length > 0 ? Math.min(...scores) / 2 : 0.5;
        const at = which % imgs.length;
        // Far from every box of the grid: it can only be a false positive.
        const extra: PredBox = { category: cat, bbox: [5000, 5000, 10, 10], score: lowest };
        const more = imgs.map((img, i) => (i === at ? { ...img, predictions: [...img.predictions, extra] } : img));
        const before = evaluateDetection(imgs);
        const after = evaluateDetection(more);
        if (before.at50.precision !== null) expect(after.at50.precision as number).toBeLessThanOrEqual(before.at50.precision);
        expect(after.at50.fp).toBe(before.at50.fp + 1);
        expect(after.AP).toBe(before.AP);
        expect(after.AP50).toBe(before.AP50);
        expect(after.AR100).toBe(before.AR100);
      }),
      RUNS,
    );
  }, TIMEOUT);
});
