/**
 * The evaluator's metrics against values computed by hand with sklearn's definitions (zero_division=0), numpy's
 * default percentile, and the textbook ECE and McNemar formulas; then the invariants as property tests.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { calibration, expectedCalibrationError, labelThreshold, reliabilityBins } from '../../shared/eval/calibration';
import { classificationMetrics } from '../../shared/eval/classificationMetrics';
import { latencyStats, percentileLinear } from '../../shared/eval/latencyStats';
import { erfc, mcnemar, mcnemarFromCounts } from '../../shared/eval/mcnemar';
import { multiLabelMetrics } from '../../shared/eval/multiLabelMetrics';

describe('classification metrics (sklearn classification_report, labels=profile labels, zero_division=0)', () => {
  // y_true = cat cat dog dog dog bird; y_pred = cat dog dog dog (no answer) cat
  const pairs = [
    { truth: 'cat', predicted: 'cat' },
    { truth: 'cat', predicted: 'dog' },
    { truth: 'dog', predicted: 'dog' },
    { truth: 'dog', predicted: 'dog' },
    { truth: 'dog', predicted: null },
    { truth: 'bird', predicted: 'cat' },
  ];
  const m = classificationMetrics(pairs, ['cat', 'dog', 'bird']);

  it('accuracy counts an unanswered image as wrong', () => {
    expect(m.accuracy).toBe(0.5);
    expect(m.correct).toBe(3);
  });

  it('per-class precision, recall, F1 and support are the hand-computed values', () => {
    expect(m.perClass['cat']).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2, predicted: 2 });
    expect(m.perClass['dog']?.precision).toBeCloseTo(2 / 3, 12);
    expect(m.perClass['dog']?.recall).toBeCloseTo(2 / 3, 12);
    expect(m.perClass['dog']?.f1).toBeCloseTo(2 / 3, 12);
    expect(m.perClass['dog']?.support).toBe(3);
    // bird was never predicted: precision 0 by zero_division=0, not NaN.
    expect(m.perClass['bird']).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 1 });
  });

  it('macro and weighted averages are the hand-computed values', () => {
    expect(m.macro.precision).toBeCloseTo((0.5 + 2 / 3 + 0) / 3, 12);
    expect(m.macro.f1).toBeCloseTo((0.5 + 2 / 3 + 0) / 3, 12);
    expect(m.weighted.precision).toBeCloseTo((0.5 * 2 + (2 / 3) * 3) / 6, 12);
    expect(m.weighted.recall).toBeCloseTo(0.5, 12);
  });

  it('the confusion matrix has an unknown column for answers outside the label set', () => {
    const withOutside = classificationMetrics([...pairs, { truth: 'cat', predicted: 'hamster' }], ['cat', 'dog', 'bird']);
    expect(withOutside.confusion.columns).toEqual(['cat', 'dog', 'bird', 'unknown']);
    expect(withOutside.confusion.matrix).toEqual([
      [1, 1, 0, 1],
      [0, 2, 0, 1],
      [1, 0, 0, 0],
    ]);
  });

  it('a profile label absent from the data is listed but not averaged into the macro mean', () => {
    const r = classificationMetrics([{ truth: 'cat', predicted: 'cat' }, { truth: 'dog', predicted: 'dog' }], ['cat', 'dog', 'fish']);
    expect(r.perClass['fish']).toMatchObject({ support: 0, predicted: 0 });
    expect(r.macro).toEqual({ precision: 1, recall: 1, f1: 1 });
  });
});

describe('multi-label metrics (sklearn on binarised label sets)', () => {
  const m = multiLabelMetrics(
    [
      { truth: ['a', 'b'], predicted: ['a'] },
      { truth: ['a'], predicted: ['a', 'c'] },
      { truth: ['c'], predicted: ['c'] },
      { truth: [], predicted: ['b'] },
    ],
    ['a', 'b', 'c'],
  );
  it('per-label, micro, macro and exact match are the hand-computed values', () => {
    expect(m.perLabel['a']).toMatchObject({ precision: 1, recall: 1, f1: 1, support: 2 });
    expect(m.perLabel['b']).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(m.perLabel['c']?.precision).toBe(0.5);
    expect(m.perLabel['c']?.f1).toBeCloseTo(2 / 3, 12);
    expect(m.micro.precision).toBeCloseTo(0.6, 12);
    expect(m.micro.recall).toBeCloseTo(0.75, 12);
    expect(m.micro.f1).toBeCloseTo(2 / 3, 12);
    expect(m.macro.precision).toBeCloseTo(0.5, 12);
    expect(m.macro.recall).toBeCloseTo(2 / 3, 12);
    expect(m.macro.f1).toBeCloseTo(5 / 9, 12);
    expect(m.exactMatch).toBe(0.25);
    expect(m.correctLabels).toBe(3);
  });
});

describe('calibration and review thresholds', () => {
  const d = [
    { key: 'x', confidence: 0.95, correct: true, image: '1' },
    { key: 'x', confidence: 0.85, correct: true, image: '2' },
    { key: 'x', confidence: 0.85, correct: false, image: '3' },
    { key: 'x', confidence: 0.65, correct: true, image: '4' },
    { key: 'x', confidence: 0.15, correct: false, image: '5' },
  ];

  it('ECE over 10 equal-width bins is the hand-computed 0.25', () => {
    const bins = reliabilityBins(d);
    expect(bins).toHaveLength(10);
    expect(bins[8]).toMatchObject({ count: 2, accuracy: 0.5 });
    expect(bins[8]?.meanConfidence).toBeCloseTo(0.85, 12);
    expect(bins[0]).toMatchObject({ count: 0, accuracy: null, meanConfidence: null });
    // 1/5·|1−.95| + 2/5·|.5−.85| + 1/5·|1−.65| + 1/5·|0−.15|
    expect(expectedCalibrationError(bins)).toBeCloseTo(0.25, 12);
  });

  it('a confidence of exactly 1 falls in the last bin', () => {
    expect(reliabilityBins([{ confidence: 1, correct: true }])[9]?.count).toBe(1);
  });

  it('the threshold is the lowest observed confidence reaching the target, and the review share is what falls below it', () => {
    expect(labelThreshold(d, 0.9)).toEqual({ threshold: 0.95, precision: 1, reviewShare: 0.8, answers: 5 });
    // 3 right of the 4 at or above 0.65 = 0.75.
    expect(labelThreshold(d, 0.75)).toEqual({ threshold: 0.65, precision: 0.75, reviewShare: 0.2, answers: 5 });
    expect(labelThreshold(d, 0.6)).toEqual({ threshold: 0.15, precision: 0.6, reviewShare: 0, answers: 5 });
    // Ties: 0.85 accepts both answers at 0.85 or neither.
    expect(labelThreshold(d.slice(1, 3), 0.9)).toEqual({ threshold: null, precision: null, reviewShare: 1, answers: 2 });
  });

  it('the overall review share counts an image once, when any of its decisions is below its threshold', () => {
    const c = calibration([...d, { key: 'y', confidence: 0.99, correct: true, image: '1' }], 0.9);
    expect(c.thresholds['y']?.threshold).toBe(0.99);
    expect(c.reviewShare).toBe(0.8);
  });
});

describe('latency (numpy.percentile, method linear; population std)', () => {
  it('matches numpy on hand-checked values', () => {
    const l = latencyStats([10, 1, 4, 2, 3]);
    expect(l.p50).toBe(3);
    expect(l.p90).toBeCloseTo(7.6, 10);
    expect(l.p95).toBeCloseTo(8.8, 10);
    expect(l.p99).toBeCloseTo(9.76, 10);
    expect(l.max).toBe(10);
    expect(l.mean).toBe(4);
    expect(l.std).toBeCloseTo(Math.sqrt(10), 12);
    // numpy: [99.0, 192.0, 246.0, 289.2], mean 126, std 71.9761865381282
    const m = latencyStats([120, 80, 95, 300, 101, 99, 87]);
    expect([m.p50, m.p90, m.p95, m.p99].map((x) => Number(x?.toFixed(9)))).toEqual([99, 192, 246, 289.2]);
    expect(m.std).toBeCloseTo(71.9761865381282, 9);
  });

  it('no values: every figure null', () => {
    expect(latencyStats([])).toMatchObject({ p50: null, max: null, mean: null, std: null, count: 0 });
    expect(percentileLinear([7], 99)).toBe(7);
  });
});

describe("McNemar's test", () => {
  it('exact binomial below 25 discordant images: b=2, c=8 → p = 2·(1+10+45)/1024', () => {
    const first = [...Array<boolean>(2).fill(true), ...Array<boolean>(8).fill(false), ...Array<boolean>(5).fill(true)];
    const second = [...Array<boolean>(2).fill(false), ...Array<boolean>(8).fill(true), ...Array<boolean>(5).fill(true)];
    const r = mcnemar(first, second);
    expect(r).toMatchObject({ n: 15, b: 2, c: 8, method: 'exact-binomial' });
    expect(r.pValue).toBeCloseTo(112 / 1024, 12);
    expect(mcnemarFromCounts(6, 3, 3).pValue).toBe(1);
  });

  it('chi-square with continuity correction from 25: b=5, c=20 → χ² = 7.84, p = 0.0051103', () => {
    const r = mcnemarFromCounts(40, 5, 20);
    expect(r.method).toBe('chi-square-continuity');
    expect(r.statistic).toBeCloseTo(7.84, 12);
    // Python: math.erfc(math.sqrt(7.84 / 2)) = 0.005110260660855864
    expect(Math.abs(r.pValue - 0.005110260660855864)).toBeLessThan(1e-8);
    expect(Math.abs(mcnemarFromCounts(60, 10, 30).pValue - 0.002663119259138554)).toBeLessThan(1e-8);
    // The 5 % critical value of χ²(1).
    expect(Math.abs(erfc(Math.sqrt(3.841458820694124 / 2)) - 0.05)).toBeLessThan(1e-8);
  });

  it('no discordant image: p = 1', () => {
    expect(mcnemar([true, false], [true, false])).toMatchObject({ method: 'none', pValue: 1 });
  });
});

describe('invariants (property tests)', () => {
  const label = fc.constantFrom('a', 'b', 'c', 'd');
  const pairs = fc.array(fc.record({ truth: label, predicted: fc.option(fc.constantFrom('a', 'b', 'c', 'x'), { nil: null }) }), { minLength: 1, maxLength: 40 });

  it('every classification metric is in [0, 1] and unchanged when the images are reordered', () => {
    fc.assert(
      fc.property(pairs.chain((ps) => fc.tuple(fc.constant(ps), fc.shuffledSubarray(ps, { minLength: ps.length, maxLength: ps.length }))), ([ps, shuffled]) => {
        const m = classificationMetrics(ps, ['a', 'b', 'c']);
        const values = [m.accuracy ?? 0, ...Object.values(m.macro), ...Object.values(m.weighted), ...Object.values(m.perClass).flatMap((s) => [s.precision, s.recall, s.f1])];
        for (const v of values) expect(v >= 0 && v <= 1).toBe(true);
        expect(classificationMetrics(shuffled, ['a', 'b', 'c'])).toEqual(m);
      }),
    );
  });

  it('perfect predictions score 1', () => {
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 30 }), (ts) => {
        const m = classificationMetrics(
          ts.map((t) => ({ truth: t, predicted: t })),
          ['a', 'b', 'c', 'd'],
        );
        expect(m.accuracy).toBe(1);
        expect(m.macro).toEqual({ precision: 1, recall: 1, f1: 1 });
        expect(m.weighted.f1).toBeCloseTo(1, 12);
        const ml = multiLabelMetrics(
          ts.map((t) => ({ truth: [t], predicted: [t] })),
          [],
        );
        expect(ml.exactMatch).toBe(1);
        expect(ml.micro).toEqual({ precision: 1, recall: 1, f1: 1 });
      }),
    );
  });

  it('an extra false positive never raises multi-label precision', () => {
    const sets = fc.array(fc.record({ truth: fc.uniqueArray(label, { maxLength: 3 }), predicted: fc.uniqueArray(label, { maxLength: 3 }) }), { minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(sets, fc.nat(), (ps, at) => {
        const before = multiLabelMetrics(ps, []);
        const i = at % ps.length;
        const p = ps[i] as { truth: string[]; predicted: string[] };
        const extra = ['a', 'b', 'c', 'd', 'e'].find((l) => !p.truth.includes(l) && !p.predicted.includes(l)) as string;
        const after = multiLabelMetrics(ps.map((q, j) => (j === i ? { truth: q.truth, predicted: [...q.predicted, extra] } : q)), []);
        expect(after.micro.precision).toBeLessThanOrEqual(before.micro.precision + 1e-12);
      }),
    );
  });

  it('ECE is in [0, 1] and thresholds reach their target', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ confidence: fc.double({ min: 0, max: 1, noNaN: true }), correct: fc.boolean() }), { minLength: 1, maxLength: 50 }), fc.double({ min: 0.5, max: 1, noNaN: true }), (ds, target) => {
        const ece = expectedCalibrationError(reliabilityBins(ds)) as number;
        expect(ece).toBeGreaterThanOrEqual(0);
        expect(ece).toBeLessThanOrEqual(1 + 1e-12);
        const t = labelThreshold(ds, target);
        if (t.threshold !== null) expect(t.precision as number).toBeGreaterThanOrEqual(target);
        expect(t.reviewShare).toBeGreaterThanOrEqual(0);
        expect(t.reviewShare).toBeLessThanOrEqual(1);
      }),
    );
  });
});
