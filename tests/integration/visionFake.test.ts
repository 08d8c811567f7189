/**
 * The fake Image Analysis endpoint refuses what the real one refuses (api-version, features, content type, auth, image
 * size and format), its contract constants match the published spec, and its response validates against the spec's
 * ImageAnalysisResult as the client reads it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { analyzeResultSchema } from '../../shared/model/providers/vision';
import type { FakeVision } from '../support/fakeVision';
import { startFakeVision, VISION_ANALYZE_PATH, VISION_API_VERSIONS, VISION_FEATURES } from '../support/fakeVision';
import { SHARED_SPECS_DIR } from '../support/specs';

const SPEC = 'image-analysis-2023-10-01.json';

let fake: FakeVision;
let photo: Buffer;
beforeAll(async () => {
  fake = await startFakeVision();
  const red = await sharp({ create: { width: 30, height: 20, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
  photo = await sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 90, g: 90, b: 90 } } }).composite([{ input: red, left: 10, top: 40 }]).jpeg({ quality: 95 }).toBuffer();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

interface Call {
  query?: string;
  body?: Buffer | string;
  headers?: Record<string, string>;
  path?: string;
}

async function post(call: Call = {}): Promise<{ status: number; json: { error?: { code: string; message: string; innererror?: { code: string } } } & Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${fake.url}${call.path ?? VISION_ANALYZE_PATH}?${call.query ?? 'api-version=2023-10-01&features=objects'}`, {
    method: 'POST',
    headers: call.headers ?? { 'content-type': 'application/octet-stream', 'ocp-apim-subscription-key': fake.apiKey },
    body: call.body ?? new Uint8Array(photo),
  });
  return { status: res.status, json: (await res.json()) as never, headers: res.headers };
}

const png = (width: number, height: number): Promise<Buffer> => sharp({ create: { width, height, channels: 3, background: { r: 9, g: 9, b: 9 } } }).png({ compressionLevel: 1 }).toBuffer();

describe('fake Azure AI Vision analyze endpoint', () => {
  it('answers an ImageAnalysisResult with a box around the drawn colour, in the image pixels', async () => {
    const r = await post();
    expect(r.status).toBe(200);
    const parsed = analyzeResultSchema.parse(r.json);
    expect(parsed.metadata).toEqual({ width: 120, height: 80 });
    expect(parsed.objectsResult.values).toHaveLength(1);
    const box = parsed.objectsResult.values[0]?.boundingBox;
    expect(box?.x).toBeGreaterThanOrEqual(9);
    expect(box?.y).toBeGreaterThanOrEqual(39);
    expect(Math.abs((box?.w ?? 0) - 30)).toBeLessThanOrEqual(2);
    expect(Math.abs((box?.h ?? 0) - 20)).toBeLessThanOrEqual(2);
    expect(parsed.objectsResult.values[0]?.tags).toEqual([{ name: 'car', confidence: 0.912 }]);
    expect(fake.transactions).toBe(1);
  });

  it.each<[string, Call, number, string]>([
    ['no api-version', { query: 'features=objects' }, 400, 'MissingApiVersionParameter'],
    ['an unknown api-version', { query: 'api-version=2022-01-01&features=objects' }, 400, 'UnsupportedApiVersion'],
    ['no features', { query: 'api-version=2023-10-01' }, 400, 'MissingFeatures'],
    ['an unknown feature', { query: 'api-version=2023-10-01&features=objects,faces' }, 400, 'NotSupportedVisualFeature'],
    ['a language other than English for objects', { query: 'api-version=2023-10-01&features=objects&language=de' }, 400, 'NotSupportedLanguage'],
    ['no content type', { headers: { 'ocp-apim-subscription-key': 'vision-key' } }, 400, 'InvalidContentType'],
    ['an image content type', { headers: { 'content-type': 'image/jpeg', 'ocp-apim-subscription-key': 'vision-key' } }, 400, 'InvalidContentType'],
    ['bytes that are no image', { body: 'GIF? no, just text' }, 400, 'InvalidImageFormat'],
    ['an empty body', { body: Buffer.alloc(0) }, 400, 'InvalidImageSize'],
    ['no key and no token', { headers: { 'content-type': 'application/octet-stream' } }, 401, '401'],
    ['a wrong key', { headers: { 'content-type': 'application/octet-stream', 'ocp-apim-subscription-key': 'nope' } }, 401, '401'],
    ['a token without the role', { headers: { 'content-type': 'application/octet-stream', authorization: 'Bearer vision-token-without-role' } }, 403, 'PermissionDenied'],
    ['another path', { path: '/vision/v3.2/analyze' }, 404, '404'],
  ])('refuses %s', async (_what, call, status, code) => {
    const r = await post(call);
    expect(r.status).toBe(status);
    expect(r.json.error?.innererror?.code ?? r.json.error?.code).toBe(code);
    expect(r.headers.get('x-ms-error-code')).toBe(code);
    expect(fake.transactions).toBe(0);
  });

  it('refuses images outside 50–16,000 px a side and over 20 MB', async () => {
    for (const [w, h] of [[49, 80], [80, 49], [16_000, 50]] as const) {
      const r = await post({ body: await png(w, h) });
      expect([w, h, r.status, r.json.error?.innererror?.code]).toEqual([w, h, 400, 'InvalidImageSize']);
    }
    expect((await post({ body: await png(50, 50) })).status).toBe(200);
    const huge = Buffer.concat([photo, Buffer.alloc(20_971_521 - photo.length)]);
    expect((await post({ body: huge })).json.error?.innererror?.code).toBe('InvalidImageSize');
  });

  it('takes a bearer token as well as a key, and faults on demand: 429 with retry-after, 5xx, malformed', async () => {
    const bearer = { 'content-type': 'application/octet-stream', authorization: `Bearer ${fake.bearerToken}` };
    expect((await post({ headers: bearer })).status).toBe(200);
    fake.enqueue({ kind: 'throttle', retryAfterSeconds: 3 }, { kind: 'server-error', status: 503 });
    const throttled = await post();
    expect([throttled.status, throttled.headers.get('retry-after')]).toEqual([429, '3']);
    expect((await post()).status).toBe(503);
    fake.enqueue({ kind: 'malformed' });
    const res = await fetch(`${fake.url}${VISION_ANALYZE_PATH}?api-version=2023-10-01&features=objects`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'ocp-apim-subscription-key': fake.apiKey }, body: new Uint8Array(photo) });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(() => JSON.parse(text) as unknown).toThrow();
    fake.enqueue({ kind: 'malformed', body: 'no-objects-result' });
    const noObjects = await post();
    expect([noObjects.status, noObjects.json['objectsResult']]).toEqual([200, undefined]);
    expect(analyzeResultSchema.safeParse(noObjects.json).success).toBe(false);
  });

  it('states the contract the spec publishes (skips without the spec file)', (ctx) => {
    const file = path.join(SHARED_SPECS_DIR, SPEC);
    if (!existsSync(file)) {
      ctx.skip(`${SPEC} is not in ${SHARED_SPECS_DIR}; the fake's contract constants cannot be checked against it`);
      return;
    }
    const spec = JSON.parse(readFileSync(file, 'utf8')) as {
      info: { version: string };
      'x-ms-parameterized-host': { hostTemplate: string };
      securityDefinitions: Record<string, { name?: string }>;
      paths: Record<string, { post?: { consumes?: string[]; parameters: { name?: string; items?: { enum?: string[] } }[] } }>;
      definitions: Record<string, { required?: string[]; properties?: Record<string, unknown> }>;
    };
    expect(VISION_API_VERSIONS).toContain(spec.info.version);
    const op = spec.paths['/imageanalysis:analyze']?.post;
    expect(`${spec['x-ms-parameterized-host'].hostTemplate.replace('{endpoint}', '')}/imageanalysis:analyze`).toBe(VISION_ANALYZE_PATH);
    expect(op?.consumes).toEqual(['application/octet-stream']);
    expect(op?.parameters.find((p) => p.name === 'features')?.items?.enum).toEqual([...VISION_FEATURES]);
    expect(spec.securityDefinitions['ApiKeyAuth']?.name).toBe('Ocp-Apim-Subscription-Key');
    expect(spec.definitions['ImageBoundingBox']?.required).toEqual(['x', 'y', 'w', 'h']);
    expect(spec.definitions['DetectedObject']?.required).toEqual(['boundingBox', 'tags']);
    expect(spec.definitions['ImageAnalysisResult']?.required).toEqual(['metadata', 'modelVersion']);
  });
});
