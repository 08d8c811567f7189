/**
 * Per-class detection thresholds (written by `blobsight evaluate --write-thresholds`) decide a box profile's
 * needs_review split: a kept box below its class's threshold sends the image to a person.
 */
import { describe, expect, it } from 'vitest';

import type { DetectedObject, ModelClassification } from '../../shared/model/classification';
import { decideStatus } from '../../shared/pipeline/decideStatus';

type Result = ModelClassification['result'];
const box = (label: string, score: number): DetectedObject => ({ label, detectorClass: label, score, box: { x1: 0, y1: 0, x2: 10, y2: 10 } });
const objects = (...o: DetectedObject[]): { confidence: number | null; result: Result } => ({ confidence: null, result: { kind: 'objects', objects: o } });

describe('decideStatus for boxes', () => {
  it('keeps what the profile threshold let through when there are no per-class thresholds', () => {
    expect(decideStatus(objects(box('car', 0.31)), { confidenceThreshold: 0.3 })).toBe('classified');
    expect(decideStatus(objects(), { confidenceThreshold: 0.3 })).toBe('classified');
  });

  it('sends the image to review when a box is below its own class threshold, and only then', () => {
    const profile = { confidenceThreshold: 0.3, labelThresholds: { car: 0.52, 'traffic sign': 1 } };
    expect(decideStatus(objects(box('car', 0.6), box('pedestrian', 0.35)), profile)).toBe('classified');
    expect(decideStatus(objects(box('car', 0.5)), profile)).toBe('needs_review');
    // A class that never reached the target precision is written as 1: any such box goes to a person.
    expect(decideStatus(objects(box('traffic sign', 0.99)), profile)).toBe('needs_review');
  });

  it('holds a box profile attribute to its <attribute>.<label> threshold', () => {
    const profile = { confidenceThreshold: 0.3, labelThresholds: { 'weather.clear': 0.8 } };
    const r = (c: number): { confidence: number | null; result: Result } => ({ confidence: null, result: { kind: 'objects', objects: [box('car', 0.9)], attributes: { weather: { label: 'clear', confidence: c } } } });
    expect(decideStatus(r(0.9), profile)).toBe('classified');
    expect(decideStatus(r(0.7), profile)).toBe('needs_review');
  });
});
