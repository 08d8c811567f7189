import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { bdd100kToDetectionImages, readBdd100kFrames } from '../../shared/eval/detection/bdd100kToDetectionImages';
import { evaluateDetection } from '../../shared/eval/detection/evaluateDetection';

/*
 * BDD100K's official detection evaluation (Scalabel's to_coco): box2d → [x1, y1, x2 − x1 + 1, y2 − y1 + 1], area = w × h,
 * crowd / ignored labels → crowd regions, only the 10 detection classes, then COCOeval.
 *
 * f1.jpg: car truth {0,0,9,9} → [0,0,10,10], area 100 (81 without the + 1).
 *   The car prediction {0,0,4,9} → [0,0,5,10]: IoU 50/100 = 0.5 → a TP at IoU 0.5 only.
 *   Without the + 1 it would be [0,0,4,9]: IoU 36/81 = 0.44 → a FP, AP50 0.
 * A car labelled ignored {300,300,399,399} and a pedestrian crowd {100,100,199,199}: a prediction inside either is absorbed.
 * An "other vehicle" box and a lane (no box2d) are not detection labels.
 */
const truthFrames = readBdd100kFrames([
  {
    name: 'f1.jpg',
    attributes: { weather: 'clear', timeofday: 'daytime', scene: 'highway' },
    labels: [
      { category: 'car', box2d: { x1: 0, y1: 0, x2: 9, y2: 9 } },
      { category: 'car', attributes: { ignored: true }, box2d: { x1: 300, y1: 300, x2: 399, y2: 399 } },
      { category: 'pedestrian', attributes: { crowd: true }, box2d: { x1: 100, y1: 100, x2: 199, y2: 199 } },
      { category: 'other vehicle', box2d: { x1: 500, y1: 500, x2: 520, y2: 520 } },
      { category: 'lane', poly2d: [] },
    ],
  },
]);
const predictionFrames = readBdd100kFrames([
  {
    name: 'f1.jpg',
    labels: [
      { category: 'car', box2d: { x1: 0, y1: 0, x2: 4, y2: 9 }, score: 0.6 },
      { category: 'car', box2d: { x1: 310, y1: 310, x2: 350, y2: 350 }, score: 0.9 },
      { category: 'pedestrian', box2d: { x1: 120, y1: 120, x2: 150, y2: 180 }, score: 0.8 },
      { category: 'other vehicle', box2d: { x1: 500, y1: 500, x2: 520, y2: 520 }, score: 0.7 },
    ],
  },
  { name: 'not-in-truth.jpg', labels: [] },
]);

describe('bdd100kToDetectionImages (BDD100K official conventions)', () => {
  const input = bdd100kToDetectionImages(truthFrames, predictionFrames);

  it('converts box2d with the + 1 pixel convention and area = width × height', () => {
    const [image] = input.images;
    expect(image?.truth[0]).toEqual({ category: 'car', bbox: [0, 0, 10, 10], area: 100, iscrowd: false });
    expect(image?.predictions[0]).toEqual({ category: 'car', bbox: [0, 0, 5, 10], score: 0.6 });
    expect(image?.attributes).toEqual({ weather: 'clear', timeofday: 'daytime', scene: 'highway' });
  });

  it('makes crowd and ignored labels crowd regions and keeps only the 10 detection classes, saying what it dropped', () => {
    const [image] = input.images;
    expect(image?.truth.map((t) => [t.category, t.iscrowd])).toEqual([
      ['car', false],
      ['car', true],
      ['pedestrian', true],
    ]);
    expect(image?.predictions.map((p) => p.category)).toEqual(['car', 'car', 'pedestrian']);
    const warnings = input.warnings.join('\n');
    expect(warnings).toMatch(/1 truth boxes outside BDD100K's 10 detection classes are not evaluated \(other vehicle 1\)/);
    expect(warnings).toMatch(/1 predicted boxes outside/);
    expect(warnings).toMatch(/1 truth labels have no box2d/);
    expect(input.predictionsWithoutTruth).toEqual(['not-in-truth.jpg']);
    expect(input.truthWithoutPredictions).toEqual([]);
  });

  it('lists truth frames without a prediction frame and evaluates them as nothing detected', () => {
    const twoFrames = [...truthFrames, { name: 'f0.jpg', labels: [{ category: 'bus', box2d: { x1: 0, y1: 0, x2: 99, y2: 99 } }] }];
    const partial = bdd100kToDetectionImages(twoFrames, predictionFrames);
    expect(partial.truthWithoutPredictions).toEqual(['f0.jpg']);
    expect(partial.images.map((i) => i.image)).toEqual(['f0.jpg', 'f1.jpg']);
    expect(partial.warnings.join('\n')).toMatch(/1 truth frames have no prediction frame/);
    expect(evaluateDetection(partial.images).perClass['bus']).toMatchObject({ AP: 0, tp: 0, fp: 0, fn: 1 });
  });

  it('then evaluates as COCO: the + 1 box is a TP at IoU 0.5, detections in crowd / ignored regions count for nothing', () => {
    const report = evaluateDetection(input.images);
    // car: the 0.9 detection in the ignored region is absorbed; the 0.6 one is the only counted detection, a TP at 0.5 only.
    expect(report.perClass['car']).toMatchObject({ tp: 1, fp: 0, fn: 0 });
    expect(report.perClass['car']?.AP50).toBeCloseTo(1, 12);
    expect(report.perClass['car']?.AP75).toBeCloseTo(0, 12);
    expect(report.perClass['car']?.AP).toBeCloseTo(0.1, 12);
    // pedestrian: only a crowd region, so no AP (left out of the mean) and its detection is no false positive.
    expect(report.perClass['pedestrian']).toMatchObject({ AP: null, tp: 0, fp: 0, fn: 0 });
    expect(report.AP50).toBeCloseTo(1, 12);
    expect(report.at50).toMatchObject({ precision: 1, recall: 1, tp: 1, fp: 0, fn: 0 });
  });

  it('reads the per-image label files (image_filename, metadata) and Scalabel datasets ({frames})', () => {
    const [file] = readBdd100kFrames({ image_filename: 'a.jpg', metadata: { weather: 'rainy' }, labels: [{ category: 'car', box2d: { x1: 1, y1: 2, x2: 3, y2: 4 } }] });
    expect(file).toEqual({ name: 'a.jpg', attributes: { weather: 'rainy' }, labels: [{ category: 'car', box2d: { x1: 1, y1: 2, x2: 3, y2: 4 } }] });
    expect(readBdd100kFrames({ frames: [{ name: 'b.jpg', labels: [] }] })).toEqual([{ name: 'b.jpg', labels: [] }]);
    expect(() => readBdd100kFrames([{ labels: [] }])).toThrow(/no "name"/);
    expect(() => readBdd100kFrames([{ name: 'c.jpg', labels: [{ category: 'car', box2d: { x1: 'a' } }] }])).toThrow(/c\.jpg: label 0 has a box2d without numeric/);
  });
});

// The 60 real frames beside the repository (not committed), evaluated against themselves.
const LABELS = join(__dirname, '..', '..', '..', 'shared', 'data', 'bdd100k', 'labels');
const present = existsSync(LABELS);
if (!present) console.warn(`skipping the BDD100K self-evaluation: ${LABELS} is absent (it lives beside the repository, never in it)`);

describe.skipIf(!present)('BDD100K labels in ../shared/data evaluated against themselves', () => {
  it('score 1 everywhere (a sanity check of conversion and matching on 60 real frames)', () => {
    const frames = readdirSync(LABELS)
      .filter((f) => f.endsWith('.json'))
      .flatMap((f) => readBdd100kFrames(JSON.parse(readFileSync(join(LABELS, f), 'utf8')), f));
    expect(frames).toHaveLength(60);
    const input = bdd100kToDetectionImages(frames, frames);
    const report = evaluateDetection(input.images);
    expect(report.AP).toBeCloseTo(1, 12);
    expect(report.AP50).toBeCloseTo(1, 12);
    expect(report.AR100).toBeCloseTo(1, 12);
    expect(report.at50.precision).toBe(1);
    expect(report.at50.recall).toBe(1);
    expect(Object.keys(report.perClass).length).toBeGreaterThanOrEqual(9);
  });
});
