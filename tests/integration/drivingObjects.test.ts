/**
 * The driving-objects profile end to end: GPT-4o's strict box request accepted by the fake (which checks strict
 * schemas like Azure), grid boxes converted to the original's pixels through the resize and EXIF orientation, the
 * same profile served by the local detector, and the service picking the profile from the blob path.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { DEFAULT_PRICES } from '../../shared/config';
import { BOX_GRID, createOpenAIClient, OpenAIClassifier } from '../../shared/model';
import type { DetectedObject } from '../../shared/model/classification';
import { createLocalDetector } from '../../shared/model/localDetector';
import type { PreprocessedImage } from '../../shared/preprocess';
import { preprocessImage } from '../../shared/preprocess';
import { loadProfiles } from '../../shared/profiles';
import type { ObjectsProfile } from '../../shared/profiles/profileSchema';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

const profile = loadProfiles().get('driving-objects') as ObjectsProfile;
const limits = { maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 };
const BDD = resolve(__dirname, '..', '..', '..', 'shared', 'data', 'bdd100k');
const haveBdd = existsSync(join(BDD, 'images'));
if (!haveBdd) console.warn(`drivingObjects: ${BDD} is absent, skipping the local detector on a BDD100K frame.`);

type Box = DetectedObject['box'];

/** A grey image with one pure red rectangle, stored with the given EXIF orientation (1 = none). */
async function redRectangle(width: number, height: number, rect: { left: number; top: number; width: number; height: number }, orientation = 1): Promise<Buffer> {
  const red = await sharp({ create: { width: rect.width, height: rect.height, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
  const img = sharp({ create: { width, height, channels: 3, background: { r: 90, g: 90, b: 90 } } }).composite([{ input: red, left: rect.left, top: rect.top }]);
  return (orientation === 1 ? img : img.withMetadata({ orientation })).jpeg({ quality: 95 }).toBuffer();
}

/** Bounding box of the red pixels of an image as a viewer shows it (EXIF orientation applied), in its pixels. */
async function findRed(bytes: Buffer): Promise<{ box: Box; width: number; height: number }> {
  const { data, info } = await sharp(bytes).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const i = (y * info.width + x) * 3;
      if ((data[i] ?? 0) > 200 && (data[i + 1] ?? 255) < 60 && (data[i + 2] ?? 255) < 60) {
        x1 = Math.min(x1, x); y1 = Math.min(y1, y); x2 = Math.max(x2, x + 1); y2 = Math.max(y2, y + 1);
      }
    }
  }
  return { box: { x1, y1, x2, y2 }, width: info.width, height: info.height };
}

describe('driving-objects with GPT-4o (fake)', () => {
  let fake: FakeOpenAI;
  let classifier: OpenAIClassifier;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    const client = createOpenAIClient(
      { provider: 'azure-openai', endpoint: fake.url, deployment: fake.deployment, apiVersion: fake.apiVersion, apiKey: fake.apiKey },
      { maxRetries: 0, timeoutMs: 5000, logprobs: true },
    );
    classifier = new OpenAIClassifier({ client, info: { provider: 'azure-openai', deployment: fake.deployment, apiVersion: fake.apiVersion }, model: fake.deployment, prices: DEFAULT_PRICES, logprobs: true });
  });
  afterAll(async () => fake.close());
  beforeEach(() => fake.reset());

  /** Answers with the red rectangle's box as the model would see it: on the grid of the image actually sent. */
  async function classifyRed(bytes: Buffer): Promise<{ found: Box; image: PreprocessedImage; truth: Box }> {
    const image = await preprocessImage(bytes, { detail: profile.detail, ...limits });
    const sent = await findRed(image.jpeg);
    const g = (v: number, size: number): number => Math.round((v / size) * BOX_GRID);
    const grid = { x1: g(sent.box.x1, sent.width), y1: g(sent.box.y1, sent.height), x2: g(sent.box.x2, sent.width), y2: g(sent.box.y2, sent.height) };
    fake.setAnswer(({ schema }) => ({
      answer: answerFromSchema(schema, { weather: 'rainy', timeofday: 'night', scene: 'highway', objects: [{ category: 'car', box: grid, score: 0.8 }] }),
    }));
    const out = await classifier.classify({ image, profile });
    expect(fake.requests.at(-1)?.status).toBe(200);
    expect(out.result.kind).toBe('objects');
    if (out.result.kind !== 'objects') throw new Error('not objects');
    expect(out.result.objects).toHaveLength(1);
    const truth = await findRed(bytes);
    return { found: (out.result.objects[0] as DetectedObject).box, image, truth: truth.box };
  }

  function expectClose(found: Box, truth: Box, tolerance: number): void {
    for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(Math.abs(found[k] - truth[k]), `${k}: ${found[k]} vs ${truth[k]}`).toBeLessThanOrEqual(tolerance);
  }

  it('sends a strict json_schema the fake accepts and returns BDD100K boxes and attributes', async () => {
    const bytes = await redRectangle(640, 360, { left: 100, top: 50, width: 200, height: 100 });
    const image = await preprocessImage(bytes, { detail: profile.detail, ...limits });
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { weather: 'snowy', objects: [{ category: 'traffic light', box: { x1: 100, y1: 200, x2: 150, y2: 400 }, score: 0.9 }, { category: 'car', box: { x1: 0, y1: 0, x2: 10, y2: 10 }, score: 0.1 }] }) }));
    const out = await classifier.classify({ image, profile });
    const body = fake.requests[0]?.body as { response_format: { type: string; json_schema: { strict: boolean; schema: { properties: Record<string, unknown> } } } };
    expect(fake.requests[0]?.status).toBe(200);
    expect(body.response_format.type).toBe('json_schema');
    expect(body.response_format.json_schema.strict).toBe(true);
    expect(Object.keys(body.response_format.json_schema.schema.properties)).toEqual(['weather', 'timeofday', 'scene', 'objects', 'confidence']);
    // The low-score car (0.1 < threshold 0.3) is dropped; the traffic light is converted from the grid to 640x360 px.
    expect(out.result).toEqual({
      kind: 'objects',
      objects: [{ label: 'traffic light', detectorClass: 'traffic light', score: 0.9, box: { x1: 64, y1: 72, x2: 96, y2: 144 } }],
      attributes: { weather: { label: 'snowy', confidence: 0.9 }, timeofday: { label: 'daytime', confidence: 0.9 }, scene: { label: 'city street', confidence: 0.9 } },
    });
  });

  it("the fake's default answer (no boxes) is a valid answer too", async () => {
    const image = await preprocessImage(await redRectangle(320, 200, { left: 10, top: 10, width: 20, height: 20 }), { detail: profile.detail, ...limits });
    const out = await classifier.classify({ image, profile });
    expect(out.calls).toBe(1);
    expect(out.result).toMatchObject({ kind: 'objects', objects: [], attributes: { weather: { label: 'clear' } } });
  });

  it('converts boxes of a resized image back to the original pixels', async () => {
    // 3000x1500 at high detail is sent at 1536x768 (fit in 2048, short side 768): half the scale on both axes.
    const { found, image, truth } = await classifyRed(await redRectangle(3000, 1500, { left: 1200, top: 300, width: 900, height: 600 }));
    expect([image.width, image.height]).toEqual([1536, 768]);
    expectClose(found, truth, 3000 / BOX_GRID + 3);
    expectClose(found, { x1: 1200, y1: 300, x2: 2100, y2: 900 }, 3000 / BOX_GRID + 3);
  });

  for (const orientation of [6, 8]) {
    it(`converts boxes of an EXIF orientation ${orientation} photo to the upright original's pixels`, async () => {
      // Stored 1600x900 landscape; upright it is 900x1600 portrait, and that is the frame the boxes must be in.
      const bytes = await redRectangle(1600, 900, { left: 200, top: 100, width: 400, height: 200 }, orientation);
      const { found, image, truth } = await classifyRed(bytes);
      expect([image.original.width, image.original.height]).toEqual([900, 1600]);
      // The rectangle moved with the rotation: 200 wide x 400 tall upright.
      expect(truth.x2 - truth.x1).toBeCloseTo(200, -1);
      expect(truth.y2 - truth.y1).toBeCloseTo(400, -1);
      expectClose(found, truth, 1600 / BOX_GRID + 3);
    });
  }
});

describe('driving-objects through the service', () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    app = await startTestApp(fake);
  });
  afterAll(async () => {
    await app.cleanup();
    await fake.close();
  });

  it('a blob under driving-objects/ is labelled with boxes and attributes, all queryable labels', async () => {
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { weather: 'rainy', objects: [{ category: 'bus', box: { x1: 500, y1: 500, x2: 1000, y2: 1000 }, score: 0.7 }] }) }));
    const out = await app.put('driving-objects/frame-1.jpg', await redRectangle(1280, 720, { left: 10, top: 10, width: 50, height: 50 }));
    expect(out.outcome).toBe('classified');
    if (!('document' in out)) throw new Error('no document');
    expect(out.document.profile?.name).toBe('driving-objects');
    expect(out.document.result).toMatchObject({ kind: 'objects', objects: [{ label: 'bus', box: { x1: 640, y1: 360, x2: 1280, y2: 720 } }], attributes: { weather: { label: 'rainy' } } });
    expect(out.document.labels).toEqual(['bus', 'city street', 'daytime', 'rainy']);
  });
});

describe.skipIf(!haveBdd)('driving-objects with the local detector on a BDD100K frame', () => {
  it('serves the same profile: BDD100K categories, boxes inside the frame, no attributes', async () => {
    const file = readdirSync(join(BDD, 'images')).filter((f) => f.endsWith('.jpg')).sort()[0] ?? '';
    const image = await preprocessImage(readFileSync(join(BDD, 'images', file)), { detail: profile.detail, ...limits });
    const out = await createLocalDetector().classify({ image, profile });
    if (out.result.kind !== 'objects') throw new Error('not objects');
    expect(out.result.objects.length).toBeGreaterThan(0);
    expect(out.result.attributes).toBeUndefined();
    for (const o of out.result.objects) {
      expect(profile.categories).toContain(o.label);
      expect(o.box.x2).toBeLessThanOrEqual(1280);
      expect(o.box.y2).toBeLessThanOrEqual(720);
    }
    expect(out.result.objects.map((o) => o.label)).toContain('car');
  });
});
