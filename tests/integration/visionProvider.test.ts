/**
 * MODEL_PROVIDER=azure-ai-vision for box profiles, built by the service's own factory against the strict fake Image
 * Analysis endpoint: boxes in the original's pixels and the profile's classes, the bad input (no objects, tags
 * outside the profile, an image outside Vision's size range), and one event ending as one final document with its cost.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { loadConfig } from '../../shared/config';
import { isPermanentError, isTransientError } from '../../shared/errors';
import type { Classifier } from '../../shared/model';
import { decideStatus } from '../../shared/pipeline/decideStatus';
import { preprocessImage } from '../../shared/preprocess';
import { loadProfiles } from '../../shared/profiles';
import type { ObjectsProfile } from '../../shared/profiles/profileSchema';
import { createClassifier } from '../../shared/runtime/createServices';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { startFakeOpenAI } from '../support/fakeOpenAI';
import type { FakeVision } from '../support/fakeVision';
import { startFakeVision } from '../support/fakeVision';
import type { TestApp } from '../support/testApp';
import { fakeCredential, startTestApp } from '../support/testApp';

const profiles = loadProfiles();
const drivingObjects = profiles.get('driving-objects') as ObjectsProfile;
const objectsProfile = profiles.get('objects') as ObjectsProfile;
const limits = { maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 };
const base = { AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net', COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/', MODEL_MAX_RETRIES: '0', MODEL_TIMEOUT_MS: '5000' };
/** The list price the capabilities table states, USD per transaction. */
const PER_TRANSACTION = 1 / 1000;

type Rect = { left: number; top: number; width: number; height: number; rgb: [number, number, number] };

/** A grey frame with flat rectangles of the fake's colours (red: car, blue: person, green: tree, yellow: weak truck). */
async function frame(width: number, height: number, rects: Rect[]): Promise<Buffer> {
  const inputs = await Promise.all(
    rects.map(async (r) => ({ input: await sharp({ create: { width: r.width, height: r.height, channels: 3, background: { r: r.rgb[0], g: r.rgb[1], b: r.rgb[2] } } }).png().toBuffer(), left: r.left, top: r.top })),
  );
  return sharp({ create: { width, height, channels: 3, background: { r: 90, g: 90, b: 90 } } }).composite(inputs).jpeg({ quality: 95 }).toBuffer();
}
const RED: [number, number, number] = [255, 0, 0];
const BLUE: [number, number, number] = [0, 0, 255];
const GREEN: [number, number, number] = [0, 255, 0];
const YELLOW: [number, number, number] = [255, 255, 0];

let vision: FakeVision;
let classifier: Classifier;
beforeAll(async () => {
  vision = await startFakeVision();
  classifier = await createClassifier(loadConfig({ ...base, MODEL_PROVIDER: 'azure-ai-vision', VISION_ENDPOINT: vision.url }), () => fakeCredential(vision.bearerToken), undefined);
});
afterAll(() => vision.close());
beforeEach(() => vision.reset());

describe('azure-ai-vision classifier on the fake', () => {
  it('boxes of a resized image come back in the original pixels, named with the profile classes (person → pedestrian)', async () => {
    // At low detail 2000x500 is sent as 512x128: the fake boxes the sent pixels, the client scales back by 2000/512.
    const low = { ...drivingObjects, detail: 'low' as const };
    const bytes = await frame(2000, 500, [
      { left: 200, top: 100, width: 400, height: 200, rgb: RED },
      { left: 1200, top: 50, width: 200, height: 400, rgb: BLUE },
    ]);
    const image = await preprocessImage(bytes, { detail: low.detail, ...limits });
    expect([image.width, image.height]).toEqual([512, 128]);
    const r = await classifier.classify({ image, profile: low });
    if (r.result.kind !== 'objects') throw new Error('not objects');
    expect(r.result.objects.map((o) => [o.label, o.detectorClass, o.score])).toEqual([
      ['car', 'car', 0.912],
      ['pedestrian', 'person', 0.847],
    ]);
    const [car, pedestrian] = r.result.objects;
    for (const [got, want] of [
      [car?.box, { x1: 200, y1: 100, x2: 600, y2: 300 }],
      [pedestrian?.box, { x1: 1200, y1: 50, x2: 1400, y2: 450 }],
    ] as const) {
      // Within two sent pixels (≈ 8 original pixels) of the drawn rectangle: JPEG edges and integer boxes.
      for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(Math.abs((got?.[k] ?? NaN) - want[k])).toBeLessThanOrEqual(8);
    }
    // A box 4x too large or unscaled would miss by hundreds of pixels.
    expect(car?.box.x2).toBeGreaterThan(512);
    expect(r.confidence).toBe(0.847);
    expect(r.confidenceSource).toBe('none');
    expect(r.usage).toEqual({ promptTokens: 0, completionTokens: 0, costUsd: PER_TRANSACTION });
    expect(r.model).toMatchObject({ provider: 'azure-ai-vision', reportedModel: '2023-10-01' });
    expect(vision.transactions).toBe(1);
    // The document status follows the local detector's rules: kept boxes stand, a per-class threshold above a box's score sends it to review.
    expect(decideStatus(r, low)).toBe('classified');
    expect(decideStatus(r, { ...low, labelThresholds: { pedestrian: 0.9 } })).toBe('needs_review');
  });

  it('tags outside the profile are dropped and counted; boxes below its threshold are dropped', async () => {
    const bytes = await frame(640, 480, [
      { left: 10, top: 10, width: 100, height: 100, rgb: RED },
      { left: 200, top: 10, width: 100, height: 100, rgb: GREEN },
      { left: 400, top: 10, width: 100, height: 100, rgb: YELLOW },
    ]);
    vision.setAnswer(({ detected }) => [...detected, { boundingBox: { x: 10, y: 300, w: 50, h: 50 }, tags: [{ name: 'tree', confidence: 0.7 }] }, { boundingBox: { x: 100, y: 300, w: 50, h: 50 }, tags: [{ name: 'dog', confidence: 0.9 }] }]);
    const image = await preprocessImage(bytes, { detail: drivingObjects.detail, ...limits });
    const r = await classifier.classify({ image, profile: drivingObjects });
    // The yellow truck scores 0.21, under driving-objects' 0.3: dropped like the local detector drops it. A dog is COCO but not a driving-objects class.
    expect(r.result).toEqual({ kind: 'objects', objects: [expect.objectContaining({ label: 'car' })], outsideProfile: { tree: 2, dog: 1 } });
    // The category-less `objects` profile takes the COCO-80 vocabulary: the dog stays, the trees still do not.
    const open = await classifier.classify({ image, profile: objectsProfile });
    if (open.result.kind !== 'objects') throw new Error('not objects');
    expect(open.result.objects.map((o) => o.label)).toEqual(['car', 'dog']);
    expect(open.result.outsideProfile).toEqual({ tree: 2 });
  });

  it('no objects is an answer: an empty box list with no confidence, as the local detector gives', async () => {
    const image = await preprocessImage(await frame(320, 240, []), { detail: drivingObjects.detail, ...limits });
    const r = await classifier.classify({ image, profile: drivingObjects });
    expect(r.result).toEqual({ kind: 'objects', objects: [] });
    expect(r.confidence).toBeNull();
    expect(r.usage.costUsd).toBe(PER_TRANSACTION);
  });

  it('an image under 50 px a side is rejected before any request: nothing is paid', async () => {
    const image = await preprocessImage(await frame(49, 300, []), { detail: drivingObjects.detail, ...limits });
    const error = await classifier.classify({ image, profile: drivingObjects }).catch((e: unknown) => e);
    expect(isPermanentError(error) && error.code).toBe('invalid_image');
    expect((error as Error).message).toContain('49x300 pixels; Azure AI Vision analyses images of at least 50x50 pixels');
    expect(vision.requests).toHaveLength(0);
  });

  it('a long thin image whose preprocessed copy is under 50 px is enlarged to fit, and its boxes still land on the original', async () => {
    // 8000x120 at high detail shrinks to 2048x31: under Vision's minimum, though the original is not.
    const bytes = await frame(8000, 120, [{ left: 4000, top: 20, width: 1000, height: 80, rgb: RED }]);
    const image = await preprocessImage(bytes, { detail: drivingObjects.detail, ...limits });
    expect(image.height).toBeLessThan(50);
    const r = await classifier.classify({ image, profile: drivingObjects });
    expect(vision.requests.at(-1)?.status).toBe(200);
    if (r.result.kind !== 'objects') throw new Error('not objects');
    const box = r.result.objects[0]?.box;
    expect(box?.x1).toBeGreaterThan(3950);
    expect(box?.x2).toBeLessThan(5050);
    expect(box?.y2).toBeLessThanOrEqual(120);
  });

  it('a labelling profile is refused with a reason, without a request', async () => {
    const image = await preprocessImage(await frame(320, 240, []), { detail: 'low', ...limits });
    const error = await classifier.classify({ image, profile: profiles.get('product-tags') as never }).catch((e: unknown) => e);
    expect(isPermanentError(error) && error.code).toBe('profile_not_supported');
    expect(vision.requests).toHaveLength(0);
  });

  it('a malformed answer is asked once more (both billed); one that stays malformed fails the image', async () => {
    const image = await preprocessImage(await frame(320, 240, [{ left: 10, top: 10, width: 60, height: 60, rgb: RED }]), { detail: drivingObjects.detail, ...limits });
    vision.enqueue({ kind: 'malformed' });
    const r = await classifier.classify({ image, profile: drivingObjects });
    expect(r.calls).toBe(2);
    expect(r.usage.costUsd).toBeCloseTo(2 * PER_TRANSACTION, 12);
    vision.enqueue({ kind: 'malformed', body: 'no-objects-result' }, { kind: 'malformed' });
    const error = await classifier.classify({ image, profile: drivingObjects }).catch((e: unknown) => e);
    expect(isPermanentError(error) && error.code).toBe('model_invalid_output');
    expect((error as { details: { calls: number } }).details.calls).toBe(2);
  });

  it('a slow answer past MODEL_TIMEOUT_MS is a transient model_timeout', async () => {
    const slow = await createClassifier(loadConfig({ ...base, MODEL_TIMEOUT_MS: '100', MODEL_PROVIDER: 'azure-ai-vision', VISION_ENDPOINT: vision.url }), () => fakeCredential(vision.bearerToken), undefined);
    const image = await preprocessImage(await frame(320, 240, []), { detail: drivingObjects.detail, ...limits });
    vision.enqueue({ kind: 'slow', ms: 400 });
    const error = await slow.classify({ image, profile: drivingObjects }).catch((e: unknown) => e);
    expect(isTransientError(error) && error.code).toBe('model_timeout');
    // The service still finishes, and bills, the request the client gave up on.
    await vi.waitFor(() => expect(vision.transactions).toBe(1), { timeout: 5_000, interval: 50 });
  });

  it('with VISION_API_KEY set it sends the key, not a token', async () => {
    const keyed = await createClassifier(loadConfig({ ...base, MODEL_PROVIDER: 'azure-ai-vision', VISION_ENDPOINT: vision.url, VISION_API_KEY: vision.apiKey }), undefined, undefined);
    const image = await preprocessImage(await frame(320, 240, []), { detail: drivingObjects.detail, ...limits });
    await keyed.classify({ image, profile: drivingObjects });
    expect(vision.requests.at(-1)?.headers['ocp-apim-subscription-key']).toBe(vision.apiKey);
    expect(vision.requests.at(-1)?.headers['authorization']).toBeUndefined();
  });
});

describe('driving-objects through the service with MODEL_PROVIDER=azure-ai-vision', () => {
  let openai: FakeOpenAI;
  let app: TestApp;
  beforeAll(async () => {
    // startTestApp points the Azure OpenAI settings at a fake; MODEL_PROVIDER=azure-ai-vision makes them unused.
    openai = await startFakeOpenAI();
    app = await startTestApp(openai, { MODEL_PROVIDER: 'azure-ai-vision', VISION_ENDPOINT: vision.url }, { credential: fakeCredential(vision.bearerToken) });
  });
  afterAll(async () => {
    await app.cleanup();
    await openai.close();
  });

  it('an event for a driving-objects frame ends as one final document with boxes in original pixels and the Vision cost', async () => {
    // 1600x900 is sent as 1365x768 (high detail).
    const bytes = await frame(1600, 900, [{ left: 200, top: 300, width: 600, height: 400, rgb: RED }, { left: 1300, top: 100, width: 200, height: 200, rgb: GREEN }]);
    const out = await app.put('driving-objects/vision-1.jpg', bytes);
    expect(out.outcome).toBe('classified');
    if (!('document' in out)) throw new Error('no document');
    expect(out.document.status).toBe('classified');
    expect(out.document.profile?.name).toBe('driving-objects');
    expect(out.document.model).toMatchObject({ provider: 'azure-ai-vision' });
    expect(out.document.labels).toEqual(['car']);
    expect(out.document.usage).toMatchObject({ costUsd: PER_TRANSACTION, modelCalls: 1 });
    if (out.document.result?.kind !== 'objects') throw new Error('not objects');
    const box = out.document.result.objects[0]?.box;
    for (const [k, want] of [['x1', 200], ['y1', 300], ['x2', 800], ['y2', 700]] as const) expect(Math.abs((box?.[k] ?? NaN) - want)).toBeLessThanOrEqual(8);
    expect(out.document.result.outsideProfile).toEqual({ tree: 1 });
    expect(vision.transactions).toBe(1);
    // Delivered again (Event Grid at-least-once): the same document, no second transaction.
    const again = await app.put('driving-objects/vision-1.jpg', bytes);
    expect(['duplicate', 'classified']).toContain(again.outcome);
    expect(vision.transactions).toBe(1);
  });

  it('a 429 with retry-after is handed back for redelivery, never final; the redelivery is classified, paid once', async () => {
    const bytes = await frame(320, 240, [{ left: 20, top: 20, width: 80, height: 60, rgb: RED }]);
    const upload = await app.upload('driving-objects/throttled.jpg', bytes);
    vision.enqueue({ kind: 'throttle', retryAfterSeconds: 4 });
    const error = await app.deliver('driving-objects/throttled.jpg', upload).catch((e: unknown) => e);
    expect(isTransientError(error) && error.code).toBe('model_throttled');
    expect((error as { retryAfterMs?: number }).retryAfterMs).toBe(4000);
    expect(vision.transactions).toBe(0);
    const again = await app.deliver('driving-objects/throttled.jpg', upload);
    expect(again.outcome).toBe('classified');
    expect(vision.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(vision.transactions).toBe(1);
  });

  it('an image outside the size range ends rejected with the reason, and nothing is sent', async () => {
    const out = await app.put('driving-objects/tiny.jpg', await frame(40, 40, []));
    expect(out.outcome).toBe('rejected');
    if (!('document' in out)) throw new Error('no document');
    expect(out.document.error).toMatchObject({ code: 'invalid_image' });
    expect(JSON.stringify(out.document.error)).toContain('at least 50x50 pixels');
    expect(vision.requests).toHaveLength(0);
  });
});
