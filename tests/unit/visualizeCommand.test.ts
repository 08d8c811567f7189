/** `blobsight visualize` end to end in-process: a run folder and BDD100K label files in, ranked pictures out. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { runCli } from '../../shared/cli/program';
import type { PredictionRecord } from '../../shared/runs/predictionRecord';
import { OVERLAY_COLOURS } from '../../shared/visualize';
import { jpeg } from '../support/imageFixtures';

let work: string;

function record(name: string, location: string, objects: { label: string; score: number; box: [number, number, number, number] }[], weather: string): PredictionRecord {
  return {
    name,
    source: { kind: 'file', location },
    sha256: 'a'.repeat(64),
    size: 10,
    profile: { name: 'driving-objects', version: '1' },
    status: 'classified',
    result: { kind: 'objects', objects: objects.map((o) => ({ label: o.label, detectorClass: o.label, score: o.score, box: { x1: o.box[0], y1: o.box[1], x2: o.box[2], y2: o.box[3] } })), attributes: { weather: { label: weather, confidence: 0.8 } } },
    review: null,
    confidence: 0.8,
    confidenceSource: 'logprobs',
    image: { width: 160, height: 90, format: 'jpeg' },
    model: { provider: 'azure-openai', deployment: 'gpt-4o', apiVersion: '2024-10-21', reportedModel: 'gpt-4o' },
    usage: { promptTokens: 100, completionTokens: 10, costUsd: 0.001, modelCalls: 1 },
    timings: { readMs: 1, preprocessMs: 1, modelMs: 5, totalMs: 7 },
    reused: null,
    error: null,
    at: '2026-12-01T00:00:00.000Z',
  };
}

function label(name: string, weather: string, boxes: [string, number, number, number, number][]): string {
  return JSON.stringify({ image_filename: name, metadata: { weather, scene: 'highway', timeofday: 'daytime' }, labels: boxes.map(([category, x1, y1, x2, y2], i) => ({ id: String(i), category, attributes: {}, box2d: { x1, y1, x2, y2 } })) });
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  try {
    const code = await runCli(['node', 'blobsight', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'blobsight-visualize-'));
  const images = path.join(work, 'images');
  const labels = path.join(work, 'labels');
  const run = path.join(work, 'run');
  for (const d of [images, labels, run]) mkdirSync(d);
  for (const n of ['a', 'b', 'c']) writeFileSync(path.join(images, `${n}.jpg`), await jpeg(160, 90, { colour: '#808080' }));
  // a: perfect. b: one false positive + wrong weather (2 errors). c: one missed car, one FP, one missed sign, right weather (3 errors).
  writeFileSync(path.join(labels, 'a_label.json'), label('a.jpg', 'clear', [['car', 10, 10, 60, 60]]));
  writeFileSync(path.join(labels, 'b_label.json'), label('b.jpg', 'rainy', [['car', 10, 10, 60, 60]]));
  writeFileSync(path.join(labels, 'c_label.json'), label('c.jpg', 'clear', [['car', 10, 10, 60, 60], ['traffic sign', 100, 5, 150, 30]]));
  const records = [
    record('a.jpg', path.join(images, 'a.jpg'), [{ label: 'car', score: 0.9, box: [10, 10, 60, 60] }], 'clear'),
    record('b.jpg', path.join(images, 'b.jpg'), [{ label: 'car', score: 0.9, box: [10, 10, 60, 60] }, { label: 'bus', score: 0.6, box: [80, 20, 150, 80] }], 'clear'),
    record('c.jpg', path.join(images, 'c.jpg'), [{ label: 'truck', score: 0.7, box: [10, 10, 60, 60] }], 'clear'),
  ];
  writeFileSync(path.join(run, 'config.json'), JSON.stringify({ id: 'r', name: 'r', profile: { name: 'driving-objects', version: '1', kind: 'objects' }, model: { deployment: 'gpt-4o' } }));
  writeFileSync(path.join(run, 'predictions.jsonl'), `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('blobsight visualize', () => {
  it('--worst 2 writes the two images with the most errors, worst first, with their boxes drawn', async () => {
    const out = path.join(work, 'worst');
    const r = await cli(['visualize', '--pred', path.join(work, 'run'), '--truth', path.join(work, 'labels'), '--out', out, '--worst', '2', '--format', 'png']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['1-c.png', '2-b.png']);
    expect(r.stdout).toMatch(/3 errors .*1-c\.png[\s\S]*2 errors .*2-b\.png/);
    // b's false positive bus: red left edge at x = 80, halfway down its box (below the banner).
    const { data, info } = await sharp(path.join(out, '2-b.png')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const banner = info.height - 90;
    expect(banner).toBeGreaterThan(0);
    const at = (x: number, y: number): number[] => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
    const red = [0xef, 0x44, 0x44];
    expect(at(80, banner + 55).every((v, i) => Math.abs(v - (red[i] as number)) < 25)).toBe(true);
    expect(at(115, banner + 55).every((v) => Math.abs(v - 0x80) < 25)).toBe(true);
    expect(OVERLAY_COLOURS.falsePositive).toBe('#ef4444');
  });

  it('without --worst draws every image, JPEG by default', async () => {
    const out = path.join(work, 'all');
    const r = await cli(['visualize', '--pred', path.join(work, 'run'), '--truth', path.join(work, 'labels'), '--out', out]);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
    expect((await sharp(path.join(out, 'a.jpg')).metadata()).format).toBe('jpeg');
  });

  it('an image file that is gone is reported and skipped with exit 1; the others are written', async () => {
    const moved = path.join(work, 'moved');
    mkdirSync(moved);
    const out = path.join(work, 'partial');
    const images = path.join(work, 'images');
    rmSync(path.join(images, 'b.jpg'));
    try {
      const r = await cli(['visualize', '--pred', path.join(work, 'run'), '--truth', path.join(work, 'labels'), '--out', out]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/skipped b\.jpg: image file not found .*--images/);
      expect(readdirSync(out).sort()).toEqual(['a.jpg', 'c.jpg']);
    } finally {
      writeFileSync(path.join(images, 'b.jpg'), await jpeg(160, 90, { colour: '#808080' }));
    }
    expect(existsSync(path.join(images, 'b.jpg'))).toBe(true);
  });

  it('a --truth that does not exist is a usage error (exit 2) naming it', async () => {
    const r = await cli(['visualize', '--pred', path.join(work, 'run'), '--truth', path.join(work, 'nope'), '--out', path.join(work, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope');
  });
});
