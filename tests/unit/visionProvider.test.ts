/** MODEL_PROVIDER=azure-ai-vision without a network: its settings, the box mapping, the size fitting and the retries. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { DEFAULTS, loadConfig } from '../../shared/config';
import { isConfigError, isPermanentError, isTransientError } from '../../shared/errors';
import { needsCredential, providerCapabilities } from '../../shared/model/providers/capabilities';
import type { AnalyzeResult } from '../../shared/model/providers/vision';
import { fitVisionLimits, toProfileObjects, VisionClassifier } from '../../shared/model/providers/vision';
import type { PreprocessedImage } from '../../shared/preprocess/preprocessedImage';
import type { ObjectsProfile } from '../../shared/profiles/profileSchema';

const base = { AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net', COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/' };
const visionEnv = { ...base, MODEL_PROVIDER: 'azure-ai-vision', VISION_ENDPOINT: 'https://res.cognitiveservices.azure.com/' };

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    if (isConfigError(e)) return e.message;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const profile: Pick<ObjectsProfile, 'categories' | 'confidenceThreshold' | 'maxObjects'> = { categories: ['pedestrian', 'car', 'traffic sign'], confidenceThreshold: 0.3, maxObjects: 2 };
const result = (values: AnalyzeResult['objectsResult']['values'], width = 200, height = 100): AnalyzeResult => ({ metadata: { width, height }, modelVersion: '2023-10-01', objectsResult: { values } });
const obj = (name: string, confidence: number, x = 0, y = 0, w = 10, h = 10): AnalyzeResult['objectsResult']['values'][number] => ({ boundingBox: { x, y, w, h }, tags: [{ name, confidence }] });

describe('MODEL_PROVIDER=azure-ai-vision settings', () => {
  it('reads the endpoint (with or without /computervision), the GA api-version by default, keyless, objects as default profile', () => {
    const c = loadConfig(visionEnv);
    expect(c.model).toEqual({ provider: 'azure-ai-vision', endpoint: 'https://res.cognitiveservices.azure.com', apiVersion: '2023-10-01', apiKey: undefined, usdPer1000: undefined });
    expect(loadConfig({ ...visionEnv, VISION_ENDPOINT: 'https://res.cognitiveservices.azure.com/computervision/' }).model).toMatchObject({ endpoint: 'https://res.cognitiveservices.azure.com' });
    expect(DEFAULTS.VISION_API_VERSION).toBe('2023-10-01');
    expect(c.defaultProfile).toBe('objects');
    expect(needsCredential(c.model)).toBe(true);
    expect(needsCredential(loadConfig({ ...visionEnv, VISION_API_KEY: 'k' }).model)).toBe(false);
    expect(loadConfig({ ...visionEnv, VISION_PRICE_PER_1000: '1.5' }).model).toMatchObject({ usdPer1000: 1.5 });
  });

  it('VISION_ENDPOINT alone means Vision; bad values and look-alike names are reported', () => {
    const { MODEL_PROVIDER: _p, ...inferred } = visionEnv;
    expect(loadConfig(inferred).model.provider).toBe('azure-ai-vision');
    expect(configError({ ...base, MODEL_PROVIDER: 'azure-ai-vision' })).toContain('VISION_ENDPOINT is not set (MODEL_PROVIDER=azure-ai-vision)');
    expect(configError({ ...visionEnv, VISION_ENDPOINT: 'res.cognitiveservices.azure.com' })).toContain('VISION_ENDPOINT="res.cognitiveservices.azure.com" is not a URL');
    expect(configError({ ...visionEnv, VISION_API_VERSION: 'v4' })).toContain('VISION_API_VERSION="v4" is not an API version');
    expect(configError({ ...visionEnv, VISION_PRICE_PER_1000: 'free' })).toContain('VISION_PRICE_PER_1000="free" is not a price');
    expect(configError({ ...visionEnv, VISION_KEY: 'k' })).toContain('VISION_KEY is not a blobsight setting; did you mean VISION_API_KEY?');
    expect(configError({ ...base, MODEL_PROVIDER: 'vision' })).toContain('azure-ai-vision');
  });

  it('states boxes yes, labels no, no logprobs, keyless, paid per transaction', () => {
    expect(providerCapabilities('azure-ai-vision')).toMatchObject({ boxes: true, labels: false, logprobs: false, strictJsonSchema: false, imagesPerTurn: 1, keyless: true, paid: true });
    expect(providerCapabilities('azure-ai-vision').usdPer1000Transactions).toBeGreaterThan(0);
  });
});

describe('toProfileObjects', () => {
  it('scales each axis from the analysed size to the original, clamps to it and rounds to 0.1 px', () => {
    const r = toProfileObjects(result([obj('car', 0.9, 50, 25, 100, 100)]), profile, { width: 1000, height: 300 });
    // x by 1000/200, y by 300/100; the box overhangs the bottom and is clamped.
    expect(r.objects).toEqual([{ label: 'car', detectorClass: 'car', score: 0.9, box: { x1: 250, y1: 75, x2: 750, y2: 300 } }]);
  });

  it('maps COCO names through the shared table, keeps names already in the profile, drops and counts the rest', () => {
    const r = toProfileObjects(result([obj('person', 0.8), obj('Stop sign', 0.7, 20), obj('traffic sign', 0.6, 40), obj('tree', 0.9), obj('tree', 0.5), obj('dog', 0.9)]), { ...profile, maxObjects: 10 }, { width: 200, height: 100 });
    expect(r.objects.map((o) => [o.label, o.detectorClass])).toEqual([['pedestrian', 'person'], ['traffic sign', 'Stop sign'], ['traffic sign', 'traffic sign']]);
    expect(r.outsideProfile).toEqual({ tree: 2, dog: 1 });
  });

  it('applies the threshold and maxObjects like the local detector, best scores first; no objects is an empty list', () => {
    const r = toProfileObjects(result([obj('car', 0.31), obj('car', 0.29, 20), obj('car', 0.95, 40), obj('car', 0.5, 60)]), profile, { width: 200, height: 100 });
    expect(r.objects.map((o) => o.score)).toEqual([0.95, 0.5]);
    expect(toProfileObjects(result([]), profile, { width: 200, height: 100 })).toEqual({ objects: [], outsideProfile: {} });
  });
});

async function preprocessed(width: number, height: number, original = { width, height }): Promise<PreprocessedImage> {
  const jpeg = await sharp({ create: { width, height, channels: 3, background: { r: 200, g: 10, b: 10 } } }).jpeg().toBuffer();
  return { jpeg, detail: 'high', width, height, estimatedImageTokens: 0, original: { ...original, format: 'jpeg', sha256: '0', bytes: jpeg.length } };
}

describe('fitVisionLimits', () => {
  const limits = { minSide: 50, maxSide: 400, maxBytes: 5_000_000 };
  it('sends a fitting image unchanged, enlarges a too-thin copy, shrinks a too-long one', async () => {
    const ok = await preprocessed(300, 200);
    expect(await fitVisionLimits(ok, limits)).toEqual({ bytes: ok.jpeg, width: 300, height: 200 });
    const thin = await fitVisionLimits(await preprocessed(200, 25, { width: 2000, height: 250 }), limits);
    expect([thin.width, thin.height]).toEqual([400, 50]);
    expect((await sharp(thin.bytes).metadata()).height).toBe(50);
    const long = await fitVisionLimits(await preprocessed(800, 100), limits);
    expect([long.width, long.height]).toEqual([400, 50]);
  });

  it('refuses an original under the minimum, and one too thin for any scale, as invalid_image', async () => {
    const small = await fitVisionLimits(await preprocessed(49, 300), limits).catch((e: unknown) => e);
    expect(isPermanentError(small) && small.code).toBe('invalid_image');
    const sliver = await fitVisionLimits(await preprocessed(400, 20, { width: 8000, height: 400 }), { ...limits, maxSide: 500 }).catch((e: unknown) => e);
    expect(isPermanentError(sliver) && sliver.message).toContain('too long and thin');
  });

  it('re-encodes an image over the byte limit until it fits', async () => {
    const noisy = await sharp(Buffer.from(Array.from({ length: 300 * 300 * 3 }, (_, i) => (i * 7919) % 251)), { raw: { width: 300, height: 300, channels: 3 } }).jpeg({ quality: 100 }).toBuffer();
    const image: PreprocessedImage = { jpeg: noisy, detail: 'high', width: 300, height: 300, estimatedImageTokens: 0, original: { width: 300, height: 300, format: 'jpeg', sha256: '0', bytes: noisy.length } };
    const maxBytes = Math.floor(noisy.length / 3);
    const fitted = await fitVisionLimits(image, { ...limits, maxBytes });
    expect(fitted.bytes.length).toBeLessThanOrEqual(maxBytes);
    expect(fitted.width).toBeGreaterThanOrEqual(50);
  });
});

describe('VisionClassifier retries', () => {
  const analyzed = JSON.stringify(result([obj('car', 0.9, 10, 10, 50, 50)], 300, 200));
  const driving = { name: 'driving-objects', version: '1', kind: 'objects', prompt: 'p', detail: 'high', confidenceThreshold: 0.3, maxObjects: 5, categories: ['car'] } as ObjectsProfile;

  it('retries a 429 after the retry-after it names, up to MODEL_MAX_RETRIES, then answers', async () => {
    const answers = [new Response(JSON.stringify({ error: { code: '429', message: 'slow down' } }), { status: 429, headers: { 'retry-after': '7' } }), new Response(analyzed, { status: 200 })];
    const waits: number[] = [];
    const c = new VisionClassifier({ endpoint: 'https://v.test', apiVersion: '2023-10-01', apiKey: 'k', timeoutMs: 1000, maxRetries: 2, fetch: () => Promise.resolve(answers.shift() as Response), sleep: (ms) => (waits.push(ms), Promise.resolve()) });
    const r = await c.classify({ image: await preprocessed(300, 200), profile: driving });
    expect(waits).toEqual([7000]);
    expect(r.result).toMatchObject({ objects: [{ label: 'car' }] });
    expect(r.usage.costUsd).toBeCloseTo(0.001, 12);
  });

  it('without retries left the 503 surfaces as transient model_unavailable; a connection fault too', async () => {
    const c = new VisionClassifier({ endpoint: 'https://v.test', apiVersion: '2023-10-01', apiKey: 'k', timeoutMs: 1000, maxRetries: 0, fetch: () => Promise.resolve(new Response('{"error":{"code":"ServiceUnavailable","message":"busy"}}', { status: 503 })) });
    const e = await c.classify({ image: await preprocessed(300, 200), profile: driving }).catch((x: unknown) => x);
    expect(isTransientError(e) && e.code).toBe('model_unavailable');
    const down = new VisionClassifier({ endpoint: 'https://v.test', apiVersion: '2023-10-01', apiKey: 'k', timeoutMs: 1000, maxRetries: 0, fetch: () => Promise.reject(new TypeError('fetch failed')) });
    const e2 = await down.classify({ image: await preprocessed(300, 200), profile: driving }).catch((x: unknown) => x);
    expect(isTransientError(e2) && e2.code).toBe('model_unavailable');
  });
});
