import { describe, expect, it } from 'vitest';

import { evaluateDetection } from '../../shared/eval/detection/evaluateDetection';
import { byAttribute, byPathPrefix, sliceImages } from '../../shared/eval/detection/sliceImages';
import type { DetectionImage } from '../../shared/eval/detection/types';

/*
 * A case small enough to compute by hand, COCO rules (101 recall points, IoU 0.50:0.05:0.95).
 *
 * cat.jpg, class "cat": truths g1 [0,0,10,10] and g2 [20,0,10,10] (area 100, small).
 *   d1 [0,0,10,10]  0.9  IoU(g1) = 1       → TP at every threshold
 *   d2 [50,50,10,10] 0.8  overlaps nothing  → FP
 *   d3 [20,0,10,7.8] 0.7  IoU(g2) = 78/100  → TP at 0.50..0.75 (6 thresholds), FP at 0.80..0.95 (4)
 *   TP-at-0.5 ranking T F T: recall .5 .5 1, precision 1 .5 .667 → envelope 1 .667 .667:
 *     recall points 0..0.50 (51 of them) read precision 1, 0.51..1 (50) read 2/3 → AP_t = (51 + 50·2/3)/101 = 253/303.
 *   Ranking T F F: recall .5 .5 .5 → 51 points at 1, the 50 beyond recall .5 at 0 → AP_t = 51/101.
 *   AP(cat) = (6·253/303 + 4·51/101)/10 = 71/101; recall: 1 at 6 thresholds, .5 at 4 → 0.8; with one detection: .5.
 *
 * dog.jpg, class "dog": a crowd region c [0,0,100,100] (area 10000) and a truth g3 [200,200,50,50] (area 2500, medium).
 *   e1 [10,10,20,20] 0.95 inside c: crowd IoU = intersection / detection area = 1 → absorbed, neither TP nor FP
 *                         (the ordinary IoU would be 400/10000 = 0.04: a false positive)
 *   e2 [50,50,20,20] 0.90 inside c as well → absorbed too: a crowd region takes any number of detections
 *   e4 [150,150,20,20] 0.60 overlaps nothing → FP
 *   e3 [200,200,50,50] 0.50 IoU(g3) = 1 → TP
 *   Counted ranking F T: precision 0 then .5 (envelope .5 everywhere), recall 0 then 1 → AP(dog) = 0.5 at every threshold.
 *   AR1: only e1 is kept per image, absorbed → recall 0.
 *
 * Overall: AP = (71/101 + 1/2)/2 = 243/404; AP50 = AP75 = (253/303 + 1/2)/2; AR100 = AR10 = (0.8 + 1)/2; AR1 = (0.5 + 0)/2.
 * Small: only cat has small truth → APsmall = 71/101, ARsmall = 0.8.
 * Medium: only g3 is medium; e4 is unmatched and small, so outside the range it is ignored, not a FP → APmedium = 1.
 * Large: the only large truth is the crowd region, which never counts → APlarge = ARlarge = null (COCO's -1).
 * At IoU 0.5 with every detection: cat TP 2 FP 1 FN 0, dog TP 1 FP 1 FN 0 → P 3/5, R 1, F1 6/8.
 */
const handCase: DetectionImage[] = [
  {
    image: 'cat.jpg',
    truth: [
      { category: 'cat', bbox: [0, 0, 10, 10] },
      { category: 'cat', bbox: [20, 0, 10, 10] },
    ],
    predictions: [
      { category: 'cat', bbox: [0, 0, 10, 10], score: 0.9 },
      { category: 'cat', bbox: [50, 50, 10, 10], score: 0.8 },
      { category: 'cat', bbox: [20, 0, 10, 7.8], score: 0.7 },
    ],
  },
  {
    image: 'dog.jpg',
    truth: [
      { category: 'dog', bbox: [0, 0, 100, 100], iscrowd: true },
      { category: 'dog', bbox: [200, 200, 50, 50] },
    ],
    predictions: [
      { category: 'dog', bbox: [200, 200, 50, 50], score: 0.5 },
      { category: 'dog', bbox: [10, 10, 20, 20], score: 0.95 },
      { category: 'dog', bbox: [150, 150, 20, 20], score: 0.6 },
      { category: 'dog', bbox: [50, 50, 20, 20], score: 0.9 },
    ],
  },
];

// Precision is tp / (tp + fp + eps) in COCOeval, hence 12 digits rather than exact equality.
const DIGITS = 12;

describe('evaluateDetection on a hand-computed case', () => {
  const report = evaluateDetection(handCase);

  it('gives the COCO summary figures computed by hand', () => {
    expect(report.AP).toBeCloseTo(243 / 404, DIGITS);
    expect(report.AP50).toBeCloseTo((253 / 303 + 0.5) / 2, DIGITS);
    expect(report.AP75).toBeCloseTo((253 / 303 + 0.5) / 2, DIGITS);
    expect(report.APsmall).toBeCloseTo(71 / 101, DIGITS);
    expect(report.APmedium).toBeCloseTo(1, DIGITS);
    expect(report.APlarge).toBeNull();
    expect(report.AR1).toBeCloseTo(0.25, DIGITS);
    expect(report.AR10).toBeCloseTo(0.9, DIGITS);
    expect(report.AR100).toBeCloseTo(0.9, DIGITS);
    expect(report.ARsmall).toBeCloseTo(0.8, DIGITS);
    expect(report.ARmedium).toBeCloseTo(1, DIGITS);
    expect(report.ARlarge).toBeNull();
  });

  it('gives per-class AP and counts at IoU 0.5, crowd-absorbed detections counted as neither TP nor FP', () => {
    expect(report.perClass['cat']).toMatchObject({ tp: 2, fp: 1, fn: 0 });
    expect(report.perClass['cat']?.AP).toBeCloseTo(71 / 101, DIGITS);
    expect(report.perClass['cat']?.AP50).toBeCloseTo(253 / 303, DIGITS);
    expect(report.perClass['dog']).toMatchObject({ tp: 1, fp: 1, fn: 0, precision: 0.5, recall: 1 });
    expect(report.perClass['dog']?.AP).toBeCloseTo(0.5, DIGITS);
    expect(report.at50).toEqual({ precision: 0.6, recall: 1, f1: 0.75, tp: 3, fp: 2, fn: 0 });
    expect(report.images).toBe(2);
    expect(report.categories).toEqual(['cat', 'dog']);
  });

  it('counts only detections at or above the score threshold for precision / recall / F1', () => {
    // cat: d1 TP, d2 FP, d3 (0.7) dropped → FN 1; dog: e4 (0.6) and e3 (0.5) dropped → FN 1.
    const at = evaluateDetection(handCase, { scoreThreshold: 0.75 }).at50;
    expect(at).toEqual({ precision: 0.5, recall: 1 / 3, f1: 0.4, tp: 1, fp: 1, fn: 2 });
    // One threshold per class: dog at 0.55 keeps e4 (FP) only.
    const perClass = evaluateDetection(handCase, { scoreThreshold: { dog: 0.55 } }).perClass;
    expect(perClass['dog']).toMatchObject({ tp: 0, fp: 1, fn: 1 });
    expect(perClass['cat']).toMatchObject({ tp: 2, fp: 1, fn: 0 });
    // AP never depends on the threshold.
    expect(evaluateDetection(handCase, { scoreThreshold: 0.75 }).AP).toBe(report.AP);
  });

  it('gives the interpolated PR curve at IoU 0.5 on the 101 recall points', () => {
    const curve = report.prCurves['cat'];
    expect(curve?.recall).toHaveLength(101);
    expect(curve?.recall[50]).toBe(0.5);
    expect(curve?.precision.slice(0, 51).every((p) => Math.abs(p - 1) < 1e-12)).toBe(true);
    expect(curve?.precision.slice(51).every((p) => Math.abs(p - 2 / 3) < 1e-12)).toBe(true);
  });

  it('finds the lowest score threshold reaching the target precision and the share left to review', () => {
    // cat ranked 0.9 T, 0.8 F, 0.7 T: precision 1 at ≥0.9, 1/2 at ≥0.8, 2/3 at ≥0.7.
    expect(report.scoreThresholds['cat']).toEqual({ threshold: 0.9, precision: 1, reviewShare: 2 / 3 });
    // dog (counted: 0.6 F, 0.5 T) never reaches 0.95: everything goes to review.
    expect(report.scoreThresholds['dog']).toEqual({ threshold: null, precision: null, reviewShare: 1 });
    const lax = evaluateDetection(handCase, { targetPrecision: 0.6 }).scoreThresholds['cat'];
    expect(lax).toEqual({ threshold: 0.7, precision: 2 / 3, reviewShare: 0 });
  });

  it('restricts to a class subset', () => {
    const cats = evaluateDetection(handCase, { categories: ['cat'] });
    expect(cats.AP).toBeCloseTo(71 / 101, DIGITS);
    expect(Object.keys(cats.perClass)).toEqual(['cat']);
    expect(cats.at50).toMatchObject({ tp: 2, fp: 1, fn: 0 });
  });

  it('gives the size slices: counts at IoU 0.5 restricted to one area range', () => {
    expect(report.sizes.medium.at50).toMatchObject({ tp: 1, fp: 0, fn: 0 });
    // Small: cat's 2 TP + 1 FP; dog's e4 is small and unmatched → FP; g3 is not small, so e3 (matched to it) is ignored.
    expect(report.sizes.small.at50).toMatchObject({ tp: 2, fp: 2, fn: 0 });
    expect(report.sizes.large.AP).toBeNull();
  });
});

describe('evaluateDetection edge cases', () => {
  it('returns null figures, not NaN, with no images or no truth', () => {
    const empty = evaluateDetection([]);
    expect(empty.AP).toBeNull();
    expect(empty.at50).toEqual({ precision: null, recall: null, f1: null, tp: 0, fp: 0, fn: 0 });
    const onlyPredictions = evaluateDetection([{ image: 'a', truth: [], predictions: [{ category: 'car', bbox: [0, 0, 5, 5], score: 0.5 }] }]);
    expect(onlyPredictions.AP).toBeNull();
    expect(onlyPredictions.at50).toEqual({ precision: 0, recall: null, f1: 0, tp: 0, fp: 1, fn: 0 });
    expect(onlyPredictions.warnings.join('\n')).toMatch(/without ground truth \(car\)/);
  });

  it('rejects a box that is not four finite numbers, naming the image', () => {
    const bad = [{ image: 'x.jpg', truth: [{ category: 'a', bbox: [0, 0, Number.NaN, 1] as [number, number, number, number] }], predictions: [] }];
    expect(() => evaluateDetection(bad)).toThrow(/x\.jpg/);
  });

  it('keeps only the 100 best detections per image and class, and says so', () => {
    const predictions = Array.from({ length: 101 }, (_, i) => ({ category: 'a', bbox: [1000 + i, 0, 5, 5] as [number, number, number, number], score: i === 100 ? 0.001 : 0.5 + i / 1000 }));
    // The 101st (lowest score) is the only TP: beyond maxDets it is never seen.
    predictions[100] = { category: 'a', bbox: [0, 0, 10, 10], score: 0.001 };
    const r = evaluateDetection([{ image: 'a', truth: [{ category: 'a', bbox: [0, 0, 10, 10] }], predictions }]);
    expect(r.at50).toMatchObject({ tp: 0, fp: 100, fn: 1 });
    expect(r.warnings.join('\n')).toMatch(/1 predictions beyond the 100 best/);
  });
});

describe('ties in score across images', () => {
  // pycocotools concatenates images in id order and sorts stably: of two detections scored 0.5, the one in the image
  // with the lower id ranks first. Here that one is the TP → AP50 1; the other order would give 0.5.
  const tp = { image: 'z-first-by-id.jpg', id: 1, truth: [{ category: 'a', bbox: [0, 0, 10, 10] as [number, number, number, number] }], predictions: [{ category: 'a', bbox: [0, 0, 10, 10] as [number, number, number, number], score: 0.5 }] };
  const fp = { image: 'a-second-by-id.jpg', id: 2, truth: [], predictions: [{ category: 'a', bbox: [0, 0, 10, 10] as [number, number, number, number], score: 0.5 }] };

  it('break by image id when every image has one, whatever the input order', () => {
    expect(evaluateDetection([fp, tp]).AP50).toBeCloseTo(1, DIGITS);
    expect(evaluateDetection([tp, fp]).AP50).toBeCloseTo(1, DIGITS);
  });

  it('break by image name otherwise, and repeated names are reported', () => {
    const { id: _a, ...tpNoId } = tp;
    const { id: _b, ...fpNoId } = fp;
    expect(evaluateDetection([tpNoId, fpNoId]).AP50).toBeCloseTo(0.5, DIGITS);
    expect(evaluateDetection([tpNoId, { ...fpNoId, image: tp.image }]).warnings.join('\n')).toMatch(/1 image names occur more than once/);
  });
});

describe('predictions without scores', () => {
  // Convention: an unscored prediction ranks as score 1, in input order (COCOeval's stable sort breaks the tie).
  const truth = [
    { category: 'a', bbox: [0, 0, 10, 10] as [number, number, number, number] },
    { category: 'a', bbox: [20, 0, 10, 10] as [number, number, number, number] },
  ];
  const hit1 = { category: 'a', bbox: [0, 0, 10, 10] as [number, number, number, number] };
  const hit2 = { category: 'a', bbox: [20, 0, 10, 10] as [number, number, number, number] };
  const miss = { category: 'a', bbox: [60, 60, 10, 10] as [number, number, number, number] };

  it('rank as score 1 in input order, so AP depends on that order while precision / recall do not', () => {
    const missFirst = evaluateDetection([{ image: 'i', truth, predictions: [miss, hit1, hit2] }]);
    const missLast = evaluateDetection([{ image: 'i', truth, predictions: [hit1, hit2, miss] }]);
    const scoredOne = evaluateDetection([{ image: 'i', truth, predictions: [miss, hit1, hit2].map((p) => ({ ...p, score: 1 })) }]);
    expect(missFirst.AP).toBe(scoredOne.AP);
    // F T T: envelope 2/3 everywhere; T T F: 1 up to recall 1.
    expect(missFirst.AP50).toBeCloseTo(2 / 3, DIGITS);
    expect(missLast.AP50).toBeCloseTo(1, DIGITS);
    expect(missFirst.at50).toEqual(missLast.at50);
    expect(missFirst.at50).toMatchObject({ tp: 2, fp: 1, fn: 0 });
    expect(missFirst.warnings.join('\n')).toMatch(/3 predictions have no score: they rank as score 1 in input order/);
    expect(scoredOne.warnings.join('\n')).not.toMatch(/no score/);
  });
});

describe('sliceImages', () => {
  const images: DetectionImage[] = handCase.map((img, i) => ({ ...img, image: `${i === 0 ? 'north' : 'south'}/${img.image}`, attributes: { weather: i === 0 ? 'clear' : 'rainy' } }));

  it('evaluates each slice of a frame attribute on its own images', () => {
    const slices = sliceImages(images, byAttribute('weather'));
    expect(Object.keys(slices)).toEqual(['clear', 'rainy']);
    expect(slices['clear']?.AP).toBeCloseTo(71 / 101, DIGITS);
    expect(slices['rainy']?.AP).toBeCloseTo(0.5, DIGITS);
    expect(slices['rainy']?.images).toBe(1);
    // Images without the attribute are a slice of their own, never dropped.
    expect(Object.keys(sliceImages([{ image: 'x', truth: [], predictions: [] }], byAttribute('weather')))).toEqual(['(none)']);
  });

  it('slices by path prefix and passes the options on', () => {
    const slices = sliceImages(images, byPathPrefix(), { scoreThreshold: 0.75 });
    expect(Object.keys(slices)).toEqual(['north', 'south']);
    expect(slices['north']?.at50).toMatchObject({ tp: 1, fp: 1, fn: 1 });
  });
});
