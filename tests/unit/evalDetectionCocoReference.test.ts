import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { evaluateDetection } from '../../shared/eval/detection/evaluateDetection';
import { readCocoGroundTruth } from '../../shared/eval/detection/readCocoGroundTruth';
import { readCocoResults } from '../../shared/eval/detection/readCocoResults';

// Real data beside the repository (not committed): ../shared/data/metrics-reference/coco-sample.
const SAMPLE = join(__dirname, '..', '..', '..', 'shared', 'data', 'metrics-reference', 'coco-sample');
const GT = join(SAMPLE, 'sampled_gts_bbox_area.json');
const RESULTS = join(SAMPLE, 'sampled_bbox_results.json');
const present = existsSync(GT) && existsSync(RESULTS);
if (!present) console.warn(`skipping the COCO reference test: ${SAMPLE} is absent (it lives beside the repository, never in it)`);

// The official pycocotools COCOeval figures for this sample, as published with it (shared/data/README.md).
const OFFICIAL = {
  AP: 0.503647,
  AP50: 0.696973,
  AP75: 0.571667,
  APsmall: 0.593252,
  APmedium: 0.557991,
  APlarge: 0.489363,
  AR1: 0.386813,
  AR10: 0.59368,
  AR100: 0.595353,
  ARsmall: 0.654764,
  ARmedium: 0.60313,
  ARlarge: 0.553744,
};

describe.skipIf(!present)('detection evaluator on the published COCO sample (100 images, 830 boxes, 734 detections)', () => {
  it('reproduces the twelve official COCOeval figures to 1e-6', () => {
    const gt = readCocoGroundTruth(JSON.parse(readFileSync(GT, 'utf8')));
    const input = readCocoResults(JSON.parse(readFileSync(RESULTS, 'utf8')), gt);
    expect(gt.images).toHaveLength(100);
    expect(input.images.reduce((n, i) => n + i.truth.length, 0)).toBe(830);
    expect(input.images.reduce((n, i) => n + i.predictions.length, 0)).toBe(734);
    const report = evaluateDetection(input.images);
    for (const [name, value] of Object.entries(OFFICIAL)) {
      // The published figures have 6 decimals: within half a unit of the last one plus rounding slack.
      expect(Math.abs((report[name as keyof typeof OFFICIAL] as number) - value), name).toBeLessThanOrEqual(1e-6);
    }
  });
});
