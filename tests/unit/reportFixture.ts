/**
 * Small realistic runs for the report tests, made on the fly: a classification run over generated JPEGs with a
 * folder-per-class truth (right, wrong, needs-review and failed images), and a detection run with BDD100K labels.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { DetectedObject } from '../../shared/model/classification';
import type { PredictionRecord } from '../../shared/runs/predictionRecord';
import { summarizeRun } from '../../shared/runs/runSummary';
import { jpeg } from '../support/imageFixtures';

const COLOURS: Record<string, string> = { cat: '#c0803f', dog: '#5a7fbf', fox: '#d9531e' };

function record(name: string, location: string, profile: string, result: PredictionRecord['result'], over: Partial<PredictionRecord> = {}): PredictionRecord {
  return {
    name,
    source: { kind: 'file', location },
    sha256: 'a'.repeat(64),
    size: 1000,
    profile: { name: profile, version: '1' },
    status: 'classified',
    result,
    review: null,
    confidence: result?.kind === 'single-label' ? result.confidence : 0.5,
    confidenceSource: 'logprobs',
    image: { width: 96, height: 64, format: 'jpeg' },
    model: { provider: 'azure-openai', deployment: 'gpt-4o', apiVersion: '2024-10-21', reportedModel: 'gpt-4o-2024-11-20' },
    usage: { promptTokens: 300, completionTokens: 12, costUsd: 0.00087, modelCalls: 1 },
    timings: { readMs: 2, preprocessMs: 8, modelMs: 400, totalMs: 410 },
    reused: null,
    error: null,
    at: '2026-12-01T10:00:00.000Z',
    ...over,
  };
}

function writeRun(dir: string, id: string, profile: { name: string; kind: string }, source: string, records: PredictionRecord[]): string {
  const run = path.join(dir, id);
  mkdirSync(run, { recursive: true });
  const config = {
    id,
    name: profile.name,
    createdAt: '2026-12-01T10:00:00.000Z',
    cliVersion: '0.1.0',
    profile: { name: profile.name, version: '1', kind: profile.kind, detail: 'low', confidenceThreshold: 0.7 },
    model: { provider: 'azure-openai', deployment: 'gpt-4o', apiVersion: '2024-10-21', maxTokens: 100, logprobs: true },
    promptHash: 'b'.repeat(64),
    profileHash: 'c'.repeat(64),
    source: { kind: 'folder', location: source },
    concurrency: 4,
    maxCostUsd: null,
    limits: { maxBytes: 20_000_000, maxPixels: 40_000_000 },
  };
  writeFileSync(path.join(run, 'config.json'), JSON.stringify(config));
  const ok = records.filter((r) => r.status === 'classified' || r.status === 'needs_review');
  const bad = records.filter((r) => r.status === 'rejected' || r.status === 'failed');
  writeFileSync(path.join(run, 'predictions.jsonl'), ok.map((r) => `${JSON.stringify(r)}\n`).join(''));
  writeFileSync(path.join(run, 'failures.jsonl'), bad.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const summary = summarizeRun({ id, profile: { name: profile.name, version: '1' }, model: { provider: 'azure-openai', deployment: 'gpt-4o' }, records, sessions: [{ startedAt: '2026-12-01T10:00:00.000Z', endedAt: '2026-12-01T10:00:09.000Z', wallMs: 9000, processed: records.length, skipped: 0, stopped: null }], corruptLines: 0 });
  writeFileSync(path.join(run, 'summary.json'), JSON.stringify(summary));
  return run;
}

/** 15 images of cat / dog / fox: 11 right, 3 wrong (one to a label outside the set), 1 failed. */
export async function classificationFixture(dir: string): Promise<{ run: string; truth: string; runsDir: string }> {
  const truth = path.join(dir, 'pets-truth');
  const answers: [string, string, string | null, number][] = [
    ['cat', 'cat-1.jpg', 'cat', 0.97], ['cat', 'cat-2.jpg', 'cat', 0.91], ['cat', 'cat-3.jpg', 'dog', 0.62], ['cat', 'cat-4.jpg', 'cat', 0.88], ['cat', 'cat-5.jpg', 'cat', 0.99],
    ['dog', 'dog-1.jpg', 'dog', 0.95], ['dog', 'dog-2.jpg', 'dog', 0.83], ['dog', 'dog-3.jpg', 'wolf', 0.55], ['dog', 'dog-4.jpg', 'dog', 0.93], ['dog', 'dog-5.jpg', null, 0],
    ['fox', 'fox-1.jpg', 'fox', 0.9], ['fox', 'fox-2.jpg', 'dog', 0.71], ['fox', 'fox-3.jpg', 'fox', 0.98], ['fox', 'fox-4.jpg', 'fox', 0.77], ['fox', 'fox-5.jpg', 'fox', 0.86],
  ];
  const records: PredictionRecord[] = [];
  for (const [i, [label, file, answer, confidence]] of answers.entries()) {
    mkdirSync(path.join(truth, label), { recursive: true });
    const location = path.join(truth, label, file);
    writeFileSync(location, await jpeg(96, 64, { colour: COLOURS[label] as string }));
    const name = `${label}/${file}`;
    const timings = { readMs: 2, preprocessMs: 8, modelMs: 300 + i * 37, totalMs: 310 + i * 37 + (i % 4) * 90 };
    if (answer === null) {
      records.push(record(name, location, 'pets', null, { status: 'failed', confidence: null, error: { code: 'model_invalid_output', message: 'the model answered twice with invalid JSON' }, usage: { promptTokens: 600, completionTokens: 30, costUsd: 0.0018, modelCalls: 2 }, timings }));
      continue;
    }
    records.push(record(name, location, 'pets', { kind: 'single-label', label: answer, confidence }, { status: confidence < 0.7 ? 'needs_review' : 'classified', timings }));
  }
  const runsDir = path.join(dir, 'runs');
  return { run: writeRun(runsDir, '20261201T100000Z-pets', { name: 'pets', kind: 'single-label' }, truth, records), truth, runsDir };
}

function det(label: string, score: number, x1: number, y1: number, x2: number, y2: number): DetectedObject {
  return { label, detectorClass: label, score, box: { x1, y1, x2, y2 } };
}

/** 4 driving-like frames with BDD100K label files: cars and pedestrians, hits, misses and false positives. */
export async function detectionFixture(dir: string): Promise<{ run: string; truth: string; runsDir: string }> {
  const images = path.join(dir, 'frames');
  const truth = path.join(dir, 'frames-labels');
  mkdirSync(images, { recursive: true });
  mkdirSync(truth, { recursive: true });
  const frames: { name: string; weather: string; truth: [string, number, number, number, number][]; pred: DetectedObject[]; predWeather: string }[] = [
    { name: 'f1.jpg', weather: 'clear', truth: [['car', 5, 30, 40, 55], ['car', 50, 30, 90, 58], ['pedestrian', 42, 10, 50, 40]], pred: [det('car', 0.92, 6, 30, 40, 55), det('car', 0.81, 50, 31, 90, 58), det('pedestrian', 0.4, 60, 5, 70, 30)], predWeather: 'clear' },
    { name: 'f2.jpg', weather: 'rainy', truth: [['car', 10, 20, 60, 50], ['pedestrian', 70, 10, 80, 45]], pred: [det('car', 0.88, 12, 20, 60, 50), det('pedestrian', 0.66, 70, 11, 80, 45), det('car', 0.35, 60, 40, 95, 62)], predWeather: 'clear' },
    { name: 'f3.jpg', weather: 'overcast', truth: [['car', 0, 25, 30, 60], ['car', 35, 25, 65, 60], ['car', 66, 25, 95, 60]], pred: [det('car', 0.95, 0, 25, 30, 60), det('car', 0.52, 36, 26, 65, 60)], predWeather: 'overcast' },
    { name: 'f4.jpg', weather: 'clear', truth: [['pedestrian', 20, 5, 30, 50], ['car', 40, 30, 90, 60]], pred: [det('pedestrian', 0.73, 20, 6, 30, 50), det('car', 0.9, 41, 30, 90, 60), det('pedestrian', 0.3, 5, 5, 12, 30)], predWeather: 'clear' },
  ];
  const records: PredictionRecord[] = [];
  for (const [i, f] of frames.entries()) {
    const location = path.join(images, f.name);
    writeFileSync(location, await jpeg(96, 64, { colour: ['#6b7280', '#4b5563', '#9ca3af', '#374151'][i] as string }));
    writeFileSync(path.join(truth, `${f.name.replace('.jpg', '')}_label.json`), JSON.stringify({ image_filename: f.name, metadata: { weather: f.weather, scene: 'city street', timeofday: 'daytime' }, labels: f.truth.map(([category, x1, y1, x2, y2], j) => ({ id: String(j), category, attributes: { occluded: false }, box2d: { x1, y1, x2, y2 } })) }));
    records.push(record(f.name, location, 'driving-objects', { kind: 'objects', objects: f.pred, attributes: { weather: { label: f.predWeather, confidence: 0.8 } } }, { timings: { readMs: 2, preprocessMs: 8, modelMs: 900 + i * 150, totalMs: 910 + i * 150 } }));
  }
  const runsDir = path.join(dir, 'runs');
  return { run: writeRun(runsDir, '20261201T110000Z-driving-objects', { name: 'driving-objects', kind: 'objects' }, images, records), truth, runsDir };
}
