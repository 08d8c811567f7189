/** The HTTP functions as Azure calls them: HttpRequest + InvocationContext, configured from the environment. */
import { HttpRequest, InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { classify } from '../../functions/classify';
import { classifyBlob } from '../../functions/classifyBlob';
import { getImage } from '../../functions/getImage';
import { health } from '../../functions/health';
import { healthDetails } from '../../functions/healthDetails';
import { listImages } from '../../functions/listImages';
import { processBlobCreated } from '../../shared/pipeline';
import { getServices, pipelineDeps } from '../../shared/runtime';
import { blobCreatedEvent } from '../support/blobEvents';
import { testEnv, uniqueName } from '../support/emulators';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg, svg } from '../support/imageFixtures';

const MAX_BYTES = 200_000;
let fake: FakeOpenAI;
const base = 'http://localhost:7071/api';

beforeAll(async () => {
  fake = await startFakeOpenAI();
  Object.assign(
    process.env,
    testEnv({
      IMAGES_CONTAINER: uniqueName('http-images'),
      COSMOS_DATABASE: uniqueName('http'),
      AZURE_OPENAI_ENDPOINT: fake.url,
      AZURE_OPENAI_DEPLOYMENT: fake.deployment,
      AZURE_OPENAI_API_KEY: fake.apiKey,
      MODEL_MAX_RETRIES: '0',
      MAX_IMAGE_BYTES: String(MAX_BYTES),
    }),
  );
  const s = await getServices();
  await s.images.createIfNotExists();
});
afterAll(async () => {
  const s = await getServices();
  await s.images.deleteIfExists();
  await fake.close();
});
beforeEach(() => fake.reset());

function ctx(name: string): InvocationContext {
  return new InvocationContext({ functionName: name, invocationId: uniqueName('inv') });
}

function post(path: string, body: Buffer | string, contentType: string, headers: Record<string, string> = {}): HttpRequest {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return new HttpRequest({ url: `${base}${path}`, method: 'POST', headers: { 'content-type': contentType, ...headers }, body: { bytes } });
}

function get(path: string, params: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({ url: `${base}${path}`, method: 'GET', params });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON is asserted field by field
function bodyOf(res: { body?: unknown }): any {
  const b = res.body;
  if (b instanceof Uint8Array) return JSON.parse(Buffer.from(b).toString('utf8'));
  throw new Error(`unexpected body ${typeof b}`);
}

function headersOf(res: { headers?: unknown }): Record<string, string> {
  return (res.headers ?? {}) as Record<string, string>;
}

describe('POST /api/classify', () => {
  it('classifies a raw image body with the profile asked for, storing nothing', async () => {
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'sunflower' }) }));
    const res = await classify(post('/classify?profile=flowers', await jpeg(640, 480), 'image/jpeg'), ctx('classify'));
    expect(res.status).toBe(200);
    const b = bodyOf(res);
    expect(b).toMatchObject({ status: 'classified', profile: { name: 'flowers' }, result: { label: 'sunflower' }, labels: ['sunflower'], image: { width: 640, height: 480, format: 'jpeg', detail: 'low' } });
    expect(b.usage.promptTokens).toBeGreaterThan(0);
    expect((await (await getServices()).store.list({ limit: 5 })).items).toHaveLength(0);
  });

  it('accepts multipart/form-data', async () => {
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
    const form = new FormData();
    form.append('image', new Blob([await jpeg(200, 200)], { type: 'image/jpeg' }), 'dog.jpg');
    const encoded = new Response(form);
    const res = await classify(post('/classify?profile=pets', Buffer.from(await encoded.arrayBuffer()), encoded.headers.get('content-type') ?? ''), ctx('classify'));
    expect(res.status).toBe(200);
    expect(bodyOf(res).labels).toEqual(['dog']);
  });

  it.each([
    ['an unknown profile', '/classify?profile=nope', () => jpeg(), 'image/jpeg', 400, 'unknown_profile'],
    ['an empty body', '/classify', () => Promise.resolve(Buffer.alloc(0)), 'image/png', 400, 'empty_blob'],
    ['a non-image content type', '/classify', () => Promise.resolve(Buffer.from('hello')), 'text/plain', 415, 'unsupported_media_type'],
    ['SVG declared as an image', '/classify', svg, 'image/svg+xml', 415, 'unsupported_format'],
    ['a body over the byte limit', '/classify', () => Promise.resolve(Buffer.alloc(MAX_BYTES + 1, 1)), 'image/jpeg', 413, 'too_large'],
  ])('refuses %s with problem JSON', async (_n, path, make, type, status, code) => {
    const res = await classify(post(path, await make(), type), ctx('classify'));
    expect(res.status).toBe(status);
    expect(headersOf(res)['content-type']).toBe('application/problem+json');
    const b = bodyOf(res);
    expect(b).toMatchObject({ status, code, type: `urn:blobsight:error:${code}` });
    expect(b.detail.length).toBeGreaterThan(10);
    expect(JSON.stringify(b)).not.toMatch(/at .*\.ts:\d+/); // no stack traces
    expect(fake.requests).toHaveLength(0);
  });

  it('answers 503 with Retry-After while the model is throttled', async () => {
    fake.enqueue({ kind: 'throttle', retryAfterMs: 7000 });
    const res = await classify(post('/classify?profile=pets', await jpeg(), 'image/jpeg'), ctx('classify'));
    expect(res.status).toBe(503);
    expect(headersOf(res)['retry-after']).toBe('7');
    expect(bodyOf(res).code).toBe('model_throttled');
  });

  it('answers 422 with the category when the content filter refuses', async () => {
    fake.enqueue({ kind: 'content-filter-prompt', category: 'self_harm' });
    const res = await classify(post('/classify?profile=pets', await jpeg(), 'image/jpeg'), ctx('classify'));
    expect(res.status).toBe(422);
    expect(JSON.stringify(bodyOf(res))).toContain('self_harm');
  });
});

describe('GET /api/images', () => {
  it('returns stored documents by id and by query, with paging', async () => {
    const s = await getServices();
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'cat' }) }));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const name = `pets/cat-${i}.jpg`;
      const up = await s.images.getBlockBlobClient(name).uploadData(await jpeg(64 + i, 64));
      const out = await processBlobCreated(
        blobCreatedEvent({ container: s.images.containerName, name, eTag: up.etag ?? '', contentLength: 1 }),
        pipelineDeps(s),
      );
      if ('document' in out) ids.push(out.document.id);
    }
    expect(ids).toHaveLength(3);

    const one = await getImage(get(`/images/${ids[0]}`, { id: ids[0] ?? '' }), ctx('getImage'));
    expect(one.status).toBe(200);
    const d = bodyOf(one);
    expect(d).toMatchObject({ id: ids[0], status: 'classified', labels: ['cat'] });
    expect(Object.keys(d).filter((k) => k.startsWith('_'))).toEqual([]);

    const page1 = await listImages(get('/images?label=cat&profile=pets&status=classified&minConfidence=0.5&limit=2'), ctx('listImages'));
    expect(page1.status).toBe(200);
    const p1 = bodyOf(page1);
    expect(p1.items).toHaveLength(2);
    expect(p1.continuationToken).toEqual(expect.any(String));
    const page2 = bodyOf(await listImages(get(`/images?label=cat&profile=pets&status=classified&minConfidence=0.5&limit=2&continuationToken=${encodeURIComponent(p1.continuationToken)}`), ctx('listImages')));
    expect(page2.items).toHaveLength(1);
    expect(new Set([...p1.items, ...page2.items].map((x: { id: string }) => x.id))).toEqual(new Set(ids));

    expect(bodyOf(await listImages(get('/images?label=dog'), ctx('listImages'))).items).toHaveLength(0);

    // Strict numbers still take plain decimals.
    expect(bodyOf(await listImages(get('/images?label=cat&limit=2&minConfidence=.5&maxConfidence=1'), ctx('listImages'))).items).toHaveLength(2);

    // A token edited by hand (its inner Cosmos token changed, wrapper kept) is refused, not answered with page 1.
    const wrapper = JSON.parse(Buffer.from(p1.continuationToken as string, 'base64url').toString('utf8')) as Record<string, unknown>;
    const inner = String(wrapper['c']);
    const edited = inner.replace(/\d/, (d) => String((Number(d) + 1) % 10));
    expect(edited).not.toBe(inner);
    for (const c of [edited, `${inner} `, '{}']) {
      const tampered = Buffer.from(JSON.stringify({ ...wrapper, c }), 'utf8').toString('base64url');
      const res = await listImages(get(`/images?label=cat&profile=pets&status=classified&minConfidence=0.5&limit=2&continuationToken=${tampered}`), ctx('listImages'));
      expect(res.status, c).toBe(400);
      expect(bodyOf(res).code).toBe('invalid_continuation_token');
    }
  });

  it.each([
    ['a malformed id', () => getImage(get('/images/..%2Fetc', { id: '../etc' }), ctx('getImage')), 400, 'invalid_id'],
    ['a missing id', () => getImage(get('/images/0123456789abcdef0123456789abcdef', { id: '0123456789abcdef0123456789abcdef' }), ctx('getImage')), 404, 'not_found'],
    ['a bad status', () => listImages(get('/images?status=done'), ctx('listImages')), 400, 'invalid_query'],
    ['an inverted confidence range', () => listImages(get('/images?minConfidence=0.9&maxConfidence=0.1'), ctx('listImages')), 400, 'invalid_query'],
    ['an unknown parameter', () => listImages(get('/images?sort=name'), ctx('listImages')), 400, 'invalid_query'],
    ['a forged continuation token', () => listImages(get('/images?continuationToken=abc'), ctx('listImages')), 400, 'invalid_continuation_token'],
    ['a hexadecimal limit', () => listImages(get('/images?limit=0x10'), ctx('listImages')), 400, 'invalid_query'],
    ['an exponent limit', () => listImages(get('/images?limit=1e1'), ctx('listImages')), 400, 'invalid_query'],
    ['a zero limit', () => listImages(get('/images?limit=0'), ctx('listImages')), 400, 'invalid_query'],
    ['an empty limit', () => listImages(get('/images?limit='), ctx('listImages')), 400, 'invalid_query'],
    ['an empty minConfidence', () => listImages(get('/images?minConfidence='), ctx('listImages')), 400, 'invalid_query'],
    ['a hexadecimal maxConfidence', () => listImages(get('/images?maxConfidence=0x1'), ctx('listImages')), 400, 'invalid_query'],
    ['a padded minConfidence', () => listImages(get('/images?minConfidence=%200.5'), ctx('listImages')), 400, 'invalid_query'],
  ])('refuses %s', async (_n, call, status, code) => {
    const res = await call();
    expect(res.status).toBe(status);
    expect(bodyOf(res).code).toBe(code);
  });

});

describe('classifyBlob (Event Grid trigger)', () => {
  it('stores the document for a BlobCreated event and rethrows a transient fault so Event Grid redelivers', async () => {
    const s = await getServices();
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'rose' }) }));
    const name = 'flowers/eg.jpg';
    const up = await s.images.getBlockBlobClient(name).uploadData(await jpeg(300, 200));
    const event = blobCreatedEvent({ container: s.images.containerName, name, eTag: up.etag ?? '', contentLength: 1 });

    fake.enqueue({ kind: 'server-error', status: 500 });
    await expect(classifyBlob(event as never, ctx('classifyBlob'))).rejects.toMatchObject({ kind: 'transient' });
    await classifyBlob(event as never, ctx('classifyBlob'));
    const listed = bodyOf(await listImages(get('/images?label=rose'), ctx('listImages')));
    expect(listed.items).toEqual([expect.objectContaining({ status: 'classified', blob: expect.objectContaining({ name }) })]);
  });
});

describe('GET /api/health', () => {
  it('tells an anonymous caller only the status, even one sending a principal header while App Service authentication is off', async () => {
    const forged = Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'oid', val: '00000000-0000-0000-0000-000000000001' }, { typ: 'roles', val: 'Reader' }] })).toString('base64');
    for (const req of [get('/health'), new HttpRequest({ url: `${base}/health`, method: 'GET', headers: { 'x-ms-client-principal': forged } })]) {
      const res = await health(req, ctx('health'));
      expect(res.status).toBe(200);
      expect(bodyOf(res)).toEqual({ status: 'ok' });
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('reports storage, Cosmos and the model configuration to key holders (api/health/details) without calling the model', async () => {
    const res = await healthDetails(get('/health/details'), ctx('healthDetails'));
    expect(res.status).toBe(200);
    const b = bodyOf(res);
    expect(b.status).toBe('ok');
    expect(b.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([
      ['storage', true],
      ['cosmos', true],
      ['model', true],
    ]);
    expect(b.model).toMatchObject({ provider: 'azure-openai', deployment: fake.deployment, endpoint: fake.url });
    expect(JSON.stringify(b)).not.toContain(fake.apiKey);
    expect(fake.requests).toHaveLength(0);
  });
});
