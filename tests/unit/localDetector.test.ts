import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { isPermanentError, isTransientError } from '../../shared/errors';
import type { CenternetModel } from '../../shared/model/localDetector';
import {
  categoryForCocoClass,
  CENTERNET_INPUT_SIZE,
  COCO_LABELS,
  createLocalDetector,
  decodeDetections,
  defaultModelDir,
  loadCenternetModel,
  LocalDetectorClassifier,
  scaleBox,
} from '../../shared/model/localDetector';
import { preprocessImage } from '../../shared/preprocess';
import type { ObjectsProfile, Profile } from '../../shared/profiles/profileSchema';
import { profileSchema } from '../../shared/profiles/profileSchema';

const repoRoot = resolve(__dirname, '..', '..');
const objectsProfile = profileSchema.parse(JSON.parse(readFileSync(join(repoRoot, 'shared', 'profiles', 'data', 'objects.json'), 'utf8'))) as ObjectsProfile;
const profile = (over: Partial<ObjectsProfile> = {}): ObjectsProfile => ({ ...objectsProfile, ...over });
const BDD = { width: 1280, height: 720 };
const S = CENTERNET_INPUT_SIZE;

/** A model stand-in that records what it was given and answers fixed rows. */
function fakeModel(rows: number[][]): { load: () => Promise<CenternetModel>; inputs: Uint8Array[]; loads: number } {
  const state = {
    inputs: [] as Uint8Array[],
    loads: 0,
    load: () => {
      state.loads++;
      return Promise.resolve({
        detect: (rgb: Uint8Array) => {
          state.inputs.push(rgb);
          return rows;
        },
      });
    },
  };
  return state;
}

async function preprocessed(width: number, height: number, left: { r: number; g: number; b: number }) {
  // Left half one colour, right half white: lets a test see that the whole image reached the model, unflipped.
  const half = await sharp({ create: { width: Math.ceil(width / 2), height, channels: 3, background: left } }).png().toBuffer();
  const png = await sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([{ input: half, left: 0, top: 0 }])
    .png()
    .toBuffer();
  return preprocessImage(png, { detail: 'low', maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 });
}

describe('COCO labels', () => {
  it('are the 80 classes in the order @vladmandic/human decodes the model with (labels[class])', () => {
    const humanDir = resolve(defaultModelDir(), '..');
    const source = readFileSync(join(humanDir, 'src', 'object', 'labels.ts'), 'utf8');
    const human = [...source.matchAll(/\{ class: (\d+), label: '([^']+)' \}/g)].map((m) => ({ class: Number(m[1]), label: m[2] }));
    expect(COCO_LABELS).toHaveLength(80);
    expect(new Set(COCO_LABELS).size).toBe(80);
    expect(human.map((h) => h.label)).toEqual([...COCO_LABELS]);
    expect(COCO_LABELS.slice(0, 8)).toEqual(['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck']);
  });

  it('map to BDD100K categories where one exists and keep their COCO name otherwise', () => {
    const mapped = Object.fromEntries(COCO_LABELS.map((c) => [c, categoryForCocoClass(c)]).filter(([c, b]) => c !== b));
    expect(mapped).toEqual({ person: 'pedestrian', 'stop sign': 'traffic sign' });
    for (const same of ['car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle', 'traffic light', 'dog', 'toothbrush'] as const) {
      expect(categoryForCocoClass(same)).toBe(same);
    }
  });
});

describe('scaleBox', () => {
  it('scales each axis on its own from the stretched square input to the original', () => {
    expect(scaleBox({ x1: 0, y1: 0, x2: S, y2: S }, S, BDD)).toEqual({ x1: 0, y1: 0, x2: 1280, y2: 720 });
    expect(scaleBox({ x1: 128, y1: 256, x2: 256, y2: 384 }, S, BDD)).toEqual({ x1: 320, y1: 360, x2: 640, y2: 540 });
    // Portrait: the y factor is now the larger one.
    expect(scaleBox({ x1: 256, y1: 256, x2: 512, y2: 384 }, S, { width: 300, height: 1000 })).toEqual({ x1: 150, y1: 500, x2: 300, y2: 750 });
  });

  it('clamps boxes that overhang the image and rounds to 0.1 px', () => {
    expect(scaleBox({ x1: -3.2, y1: -0.1, x2: 530, y2: 600 }, S, BDD)).toEqual({ x1: 0, y1: 0, x2: 1280, y2: 720 });
    // 100.123 * 2.5 = 250.3075, 77.77 * 1.40625 = 109.364...
    expect(scaleBox({ x1: 100.123, y1: 77.77, x2: 200.01, y2: 99.99 }, S, BDD)).toEqual({ x1: 250.3, y1: 109.4, x2: 500, y2: 140.6 });
  });
});

describe('decodeDetections', () => {
  const base = { inputSize: S, original: BDD, minScore: 0.3, maxObjects: 50 };

  it('reads rows as x1, y1, x2, y2, score, 0-based class and keeps boxes at or above the minimum score', () => {
    const rows = [
      [128, 256, 256, 384, 0.9, 2],
      [0, 0, 64, 64, 0.3, 0],
      [10, 10, 20, 20, 0.2999, 2],
    ];
    expect(decodeDetections(rows, base)).toEqual([
      { label: 'car', detectorClass: 'car', score: 0.9, box: { x1: 320, y1: 360, x2: 640, y2: 540 } },
      { label: 'pedestrian', detectorClass: 'person', score: 0.3, box: { x1: 0, y1: 0, x2: 160, y2: 90 } },
    ]);
  });

  it('skips rows it cannot trust: unknown class, non-finite values, short rows, no area inside the image', () => {
    const rows = [
      [1, 1, 9, 9, 0.9, 80],
      [1, 1, 9, 9, 0.9, -1],
      [1, 1, 9, 9, 0.9, 2.5],
      [1, 1, 9, 9, Number.NaN, 2],
      [1, 1, 9, 9, 0.9],
      [600, 1, 700, 9, 0.9, 2],
      [9, 9, 1, 1, 0.9, 2],
    ];
    expect(decodeDetections(rows, base)).toEqual([]);
  });

  it('keeps only the requested categories, named after mapping (pedestrian, not person)', () => {
    const rows = [
      [0, 0, 10, 10, 0.9, 0],
      [20, 20, 30, 30, 0.8, 2],
      [40, 40, 50, 50, 0.7, 16],
    ];
    expect(decodeDetections(rows, { ...base, categories: ['pedestrian', 'dog'] }).map((o) => o.label)).toEqual(['pedestrian', 'dog']);
    expect(decodeDetections(rows, { ...base, categories: ['person'] })).toEqual([]);
  });

  it('caps at maxObjects, highest scores first', () => {
    const rows = [0.4, 0.9, 0.6, 0.8, 0.5].map((score, i) => [i * 50, 0, i * 50 + 40, 40, score, 2]);
    expect(decodeDetections(rows, { ...base, maxObjects: 3 }).map((o) => o.score)).toEqual([0.9, 0.8, 0.6]);
  });

  it('drops a same-class duplicate of a stronger box but keeps an overlapping box of another class', () => {
    const rows = [
      [100, 100, 200, 200, 0.9, 2],
      [102, 101, 201, 199, 0.7, 2],
      [101, 100, 200, 201, 0.6, 7],
      [300, 100, 400, 200, 0.5, 2],
    ];
    expect(decodeDetections(rows, base).map((o) => [o.label, o.score])).toEqual([
      ['car', 0.9],
      ['truck', 0.6],
      ['car', 0.5],
    ]);
  });
});

describe('LocalDetectorClassifier', () => {
  it('names itself as the local detector and answers only objects profiles', () => {
    const detector = createLocalDetector();
    expect(detector.info).toEqual({ provider: 'local-detector', deployment: 'centernet-coco80', apiVersion: null });
    expect(detector.supportedKinds).toEqual(['objects']);
  });

  it('refuses a non-objects profile permanently, saying how to configure a vision model, without loading the model', async () => {
    const fake = fakeModel([]);
    const detector = new LocalDetectorClassifier({ loadModel: fake.load });
    const image = await preprocessed(64, 48, { r: 0, g: 0, b: 0 });
    const flowers: Profile = {
      name: 'flowers',
      version: '1',
      kind: 'single-label',
      prompt: 'Which flower?',
      detail: 'low',
      confidenceThreshold: 0.5,
      labels: [{ name: 'rose' }, { name: 'daisy' }],
    };
    const error: unknown = await detector.classify({ image, profile: flowers }).catch((e: unknown) => e);
    expect(isPermanentError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'profile_not_supported', details: { profile: 'flowers', kind: 'single-label' } });
    for (const variable of ['AZURE_OPENAI_ENDPOINT', 'AZURE_OPENAI_DEPLOYMENT', 'OPENAI_BASE_URL', 'OPENAI_MODEL']) {
      expect((error as Error).message).toContain(variable);
    }
    expect((error as Error).message).toMatch(/only detects objects/);
    expect(fake.loads).toBe(0);
  });

  it('feeds the whole upright image stretched to 512x512 RGB and returns boxes in original pixels', async () => {
    const fake = fakeModel([
      [128, 256, 256, 384, 0.8123456, 2],
      [0, 0, 256, 512, 0.45, 0],
      [0, 0, 10, 10, 0.1, 16],
    ]);
    const detector = new LocalDetectorClassifier({ loadModel: fake.load });
    const image = await preprocessed(1280, 720, { r: 255, g: 0, b: 0 });
    expect(image.width).toBeLessThan(1280); // the detector is handed the resized JPEG, not the original
    const answer = await detector.classify({ image, profile: profile() });

    const rgb = fake.inputs[0];
    expect(rgb).toHaveLength(S * S * 3);
    const pixel = (x: number, y: number) => Array.from(rgb?.subarray((y * S + x) * 3, (y * S + x) * 3 + 3) ?? []);
    // Red fills exactly the left half of the square input: stretched, not letterboxed (no padding rows), not flipped.
    for (const [x, y] of [[5, 2], [200, 256], [250, 509]] as const) {
      expect(pixel(x, y)).toEqual([expect.closeTo(255, -1.5), expect.closeTo(0, -1.5), expect.closeTo(0, -1.5)]);
    }
    for (const [x, y] of [[262, 2], [500, 256], [506, 509]] as const) {
      expect(pixel(x, y)).toEqual([expect.closeTo(255, -1.5), expect.closeTo(255, -1.5), expect.closeTo(255, -1.5)]);
    }

    expect(answer).toEqual({
      result: {
        kind: 'objects',
        objects: [
          { label: 'car', detectorClass: 'car', score: 0.8123, box: { x1: 320, y1: 360, x2: 640, y2: 540 } },
          { label: 'pedestrian', detectorClass: 'person', score: 0.45, box: { x1: 0, y1: 0, x2: 640, y2: 720 } },
        ],
      },
      confidence: 0.45,
      confidenceSource: 'none',
      usage: { promptTokens: 0, completionTokens: 0, costUsd: 0 },
      model: { provider: 'local-detector', deployment: 'centernet-coco80', apiVersion: null, reportedModel: 'centernet' },
      calls: 1,
    });
  });

  it('answers an empty object list with a null confidence when nothing reaches the threshold', async () => {
    const detector = new LocalDetectorClassifier({ loadModel: fakeModel([[0, 0, 10, 10, 0.29, 2]]).load });
    const answer = await detector.classify({ image: await preprocessed(100, 80, { r: 9, g: 9, b: 9 }), profile: profile() });
    expect(answer.result).toEqual({ kind: 'objects', objects: [] });
    expect(answer.confidence).toBeNull();
  });

  it('treats an aborted call as a transient timeout and does not run the model', async () => {
    const fake = fakeModel([]);
    const detector = new LocalDetectorClassifier({ loadModel: fake.load });
    const error: unknown = await detector
      .classify({ image: await preprocessed(64, 64, { r: 1, g: 2, b: 3 }), profile: profile(), signal: AbortSignal.abort() })
      .catch((e: unknown) => e);
    expect(isTransientError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'model_timeout' });
    expect(fake.inputs).toHaveLength(0);
  });

  it('rejects bytes that are not an image as invalid, permanently', async () => {
    const detector = new LocalDetectorClassifier({ loadModel: fakeModel([]).load });
    const image = { ...(await preprocessed(64, 64, { r: 1, g: 2, b: 3 })), jpeg: Buffer.from('not a jpeg') };
    await expect(detector.classify({ image, profile: profile() })).rejects.toMatchObject({ code: 'invalid_image', kind: 'permanent' });
  });
});

describe('loadCenternetModel', () => {
  it('finds the model shipped in @vladmandic/human', () => {
    const dir = defaultModelDir();
    expect(readFileSync(join(dir, 'centernet.json'), 'utf8')).toContain('tower_0/detections');
    expect(createRequire(__filename).resolve('@vladmandic/human').startsWith(resolve(dir, '..'))).toBe(true);
  });

  it('reports missing model files as a transient model_unavailable naming the file', async () => {
    const missing = join(repoRoot, 'tests', 'no-such-model-dir');
    const error: unknown = await loadCenternetModel(missing).catch((e: unknown) => e);
    expect(isTransientError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'model_unavailable' });
    expect((error as Error).message).toContain(join(missing, 'centernet.json'));
    // Through the classifier, the same error reaches the pipeline.
    const detector = createLocalDetector({ modelDir: missing });
    await expect(detector.classify({ image: await preprocessed(64, 64, { r: 1, g: 2, b: 3 }), profile: profile() })).rejects.toMatchObject({
      code: 'model_unavailable',
    });
  });
});

describe('objects profile', () => {
  it('parses as an objects profile named after its file that keeps every category', () => {
    expect(objectsProfile).toMatchObject({ name: 'objects', kind: 'objects' });
    expect(objectsProfile.categories).toBeUndefined();
  });
});
