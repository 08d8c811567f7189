import { describe, expect, it } from 'vitest';

import { evaluateDetection } from '../../shared/eval/detection/evaluateDetection';
import { readCocoGroundTruth } from '../../shared/eval/detection/readCocoGroundTruth';
import { readCocoResults } from '../../shared/eval/detection/readCocoResults';

const clean = {
  images: [
    { id: 7, file_name: 'b.jpg', width: 100, height: 80 },
    { id: 3, file_name: 'a.jpg', width: 100, height: 80 },
  ],
  categories: [
    { id: 1, name: 'person' },
    { id: 2, name: 'car' },
  ],
  annotations: [
    // The annotation's own area (here much smaller than the box) decides the size range, as in COCO.
    { id: 1, image_id: 3, category_id: 1, bbox: [0, 0, 40, 40], area: 500, iscrowd: 0 },
    { id: 2, image_id: 7, category_id: 2, bbox: [10, 10, 20, 20], area: 400, iscrowd: 1 },
  ],
};

describe('readCocoGroundTruth / readCocoResults', () => {
  it('matches results to images by id and categories by name, keeps images without annotations, orders by image id', () => {
    const gt = readCocoGroundTruth(clean);
    expect(gt.warnings).toEqual([]);
    expect(gt.images.map((i) => [i.id, i.image])).toEqual([
      [3, 'a.jpg'],
      [7, 'b.jpg'],
    ]);
    expect(gt.images[0]?.truth).toEqual([{ category: 'person', bbox: [0, 0, 40, 40], id: 1, area: 500, iscrowd: false }]);
    expect(gt.images[1]?.truth[0]?.iscrowd).toBe(true);
    const input = readCocoResults(
      [
        { image_id: 3, category_id: 1, bbox: [0, 0, 40, 40], score: 0.8 },
        { image_id: 7, category_id: 2, bbox: [12, 12, 10, 10], score: 0.7 },
      ],
      gt,
    );
    expect(input.warnings).toEqual([]);
    expect(input.predictionsWithoutTruth).toBe(0);
    expect(input.truthWithoutPredictions).toEqual([]);
    expect(readCocoResults([], gt).truthWithoutPredictions).toEqual(['a.jpg', 'b.jpg']);
    expect(input.images[0]?.predictions).toEqual([{ category: 'person', bbox: [0, 0, 40, 40], score: 0.8 }]);
    const report = evaluateDetection(input.images);
    // area 500 < 32² → small, though the box is 40 × 40 = 1600 (medium).
    expect(report.APsmall).toBeCloseTo(1, 12);
    expect(report.APmedium).toBeNull();
    // The car detection falls inside a crowd region: not a false positive.
    expect(report.at50).toMatchObject({ tp: 1, fp: 0, fn: 0 });
  });

  it('warns about what breaks other evaluators: annotation id 0, missing area or iscrowd, 0-based category ids, negative sizes, unknown categories', () => {
    const gt = readCocoGroundTruth({
      images: [{ id: 1, file_name: 'x.jpg' }],
      categories: [
        { id: 0, name: 'person' },
        { id: 1, name: 'car' },
      ],
      annotations: [
        { id: 0, image_id: 1, category_id: 0, bbox: [0, 0, 10, 10], area: 100, iscrowd: 0 },
        { id: 5, image_id: 1, category_id: 1, bbox: [20, 20, 10, 10] },
        { id: 6, image_id: 1, category_id: 1, bbox: [50, 50, -5, 10], area: 50, iscrowd: 0 },
        { id: 7, image_id: 99, category_id: 1, bbox: [0, 0, 1, 1], area: 1, iscrowd: 0 },
      ],
    });
    const g = gt.warnings.join('\n');
    expect(g).toMatch(/category ids start at 0/);
    expect(g).toMatch(/1 annotations have id 0/);
    expect(g).toMatch(/1 annotations have no "area": taken as width × height/);
    expect(g).toMatch(/1 annotations have no "iscrowd"/);
    expect(g).toMatch(/1 annotations have a negative width or height/);
    expect(g).toMatch(/1 annotations have an image_id not in "images"/);
    expect(gt.images[0]?.truth[1]).not.toHaveProperty('area');
    const report = evaluateDetection(gt.images);
    expect(report.perClass['car']?.fn).toBe(2);

    const r = readCocoResults(
      [
        { image_id: 1, category_id: 42, bbox: [0, 0, 10, 10], score: 0.5 },
        { image_id: 2, category_id: 1, bbox: [0, 0, 10, 10], score: 0.5 },
        { image_id: 1, category_id: 0, bbox: [0, 0, 10, 10], score: 0.5 },
        { image_id: 1, category_id: 1, bbox: [20, 20, 10, 10], score: 0.9 },
      ],
      gt,
    );
    const w = r.warnings.join('\n');
    expect(w).toMatch(/1 results have a category_id not in the ground truth's categories \(42\)/);
    expect(w).toMatch(/1 results name an image_id absent from the ground truth/);
    expect(r.predictionsWithoutTruth).toBe(1);
    // A detection matched to annotation id 0 is a TP here (pycocotools would count it a FP; hence the warning).
    const scored = evaluateDetection(r.images);
    expect(scored.perClass['person']).toMatchObject({ tp: 1, fp: 0 });
    // The annotation without "area" is sized by its box (10 × 10: small).
    expect(scored.sizes.small.at50).toMatchObject({ tp: 2, fp: 0 });
  });

  it('rejects input that is not COCO with a clear message', () => {
    expect(() => readCocoGroundTruth([])).toThrow(/expected an object with "images", "annotations"/);
    expect(() => readCocoGroundTruth({ images: [{ id: 1 }], annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 1] }], categories: [] })).toThrow(
      /COCO annotation 1: bbox is not \[x, y, width, height\]/,
    );
    const gt = readCocoGroundTruth(clean);
    expect(() => readCocoResults({ foo: 1 }, gt)).toThrow(/expected a list/);
    expect(() => readCocoResults([{ image_id: 3, category_id: 1, bbox: [0, 0, 1, 1], score: 'high' }], gt)).toThrow(/COCO result 0: score is not a number/);
  });
});
