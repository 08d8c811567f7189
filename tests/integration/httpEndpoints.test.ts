/** Uploads, reviews, image content, profiles and the web page, through the function table as both hosts call it. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import type { HttpContext } from '../../shared/http';
import { silentLogger } from '../../shared/logging';
import { processBlobCreated } from '../../shared/pipeline';
import type { FunctionName, Services } from '../../shared/runtime';
import { httpFunction, pipelineDeps } from '../../shared/runtime';
import { blobCreatedEvent } from '../support/blobEvents';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg, pngBomb, svg, textAsJpg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

const MAX = 300_000;
let fake: FakeOpenAI;
let app: TestApp;
let s: Services;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  app = await startTestApp(fake, { MAX_IMAGE_BYTES: String(MAX) });
  s = app.services;
});
afterAll(async () => {
  await s.blobService.getContainerClient(`${s.images.containerName}-renditions`).deleteIfExists();
  await app.cleanup();
  await fake.close();
});

async function call(name: FunctionName, req: Request, params: Record<string, string> = {}): Promise<Response> {
  const ctx: HttpContext = { params, log: silentLogger };
  return httpFunction(name).handler(req, ctx, s);
}

function multipart(bytes: Buffer, filename: string, type = 'image/jpeg'): { body: FormData } {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(bytes)], { type }), filename);
  return { body: form };
}

async function blobNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const b of s.images.listBlobsFlat()) names.push(b.name);
  return names;
}

/** What the Event Grid stand-in does for an upload: deliver its BlobCreated event. */
async function deliverUpload(blobName: string): Promise<void> {
  const props = await s.images.getBlobClient(blobName).getProperties();
  await processBlobCreated(blobCreatedEvent({ container: s.images.containerName, name: blobName, eTag: props.etag ?? '', contentLength: props.contentLength ?? 0, contentType: props.contentType ?? '' }), pipelineDeps(s));
}

describe('POST api/uploads', () => {
  it('streams a multipart image into the images container under the profile, typed by its real format', async () => {
    const res = await call('uploadImage', new Request('http://h/api/uploads?profile=pets', { method: 'POST', ...multipart(await jpeg(320, 200), 'My Dog ../../x.jpg') }));
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; blobName: string; format: string; bytes: number };
    expect(body.blobName).toMatch(/^pets\/\d{4}-\d{2}-\d{2}\/[0-9a-f]{8}-My Dog .._.._x\.jpg$|^pets\/\d{4}-\d{2}-\d{2}\/[0-9a-f]{8}-x\.jpg$/);
    expect(body.format).toBe('jpeg');
    const props = await s.images.getBlobClient(body.blobName).getProperties();
    expect(props.contentType).toBe('image/jpeg');
    expect(props.contentLength).toBe(body.bytes);
    // The event flow then classifies it under the path's profile, and the id the upload returned finds it.
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
    await deliverUpload(body.blobName);
    const doc = await call('getImage', new Request(`http://h/api/images/${body.id}`), { id: body.id });
    expect(await doc.json()).toMatchObject({ status: 'classified', labels: ['dog'], profile: { name: 'pets' } });
  });

  it('accepts a raw image body with ?name=', async () => {
    const res = await call('uploadImage', new Request('http://h/api/uploads?name=raw.png', { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(await jpeg(50, 50)) }));
    expect(res.status).toBe(201);
    expect(((await res.json()) as { blobName: string }).blobName).toMatch(/raw\.png$/);
  });

  it.each([
    ['text named .jpg', () => textAsJpg(), 415, 'unsupported_format'],
    ['SVG', () => svg(), 415, 'unsupported_format'],
    ['an empty file', () => Promise.resolve(Buffer.alloc(0)), 400, 'empty_blob'],
    ['a file over the byte limit', async () => Buffer.concat([await jpeg(10, 10), Buffer.alloc(MAX)]), 413, 'too_large'],
  ])('refuses %s with a clear 4xx and writes nothing', async (_n, make, status, code) => {
    const before = await blobNames();
    const res = await call('uploadImage', new Request('http://h/api/uploads', { method: 'POST', ...multipart(await make(), 'x.jpg') }));
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status, code });
    expect(await blobNames()).toEqual(before);
  });

  it('refuses an unknown profile and a non-image content type before reading the body', async () => {
    expect((await call('uploadImage', new Request('http://h/api/uploads?profile=nope', { method: 'POST', ...multipart(await jpeg(), 'a.jpg') }))).status).toBe(400);
    expect((await call('uploadImage', new Request('http://h/api/uploads', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }))).status).toBe(415);
  });

  it('an accepted upload that is a pixel bomb still ends as a visible rejected document', async () => {
    const res = await call('uploadImage', new Request('http://h/api/uploads?profile=pets', { method: 'POST', ...multipart(await pngBomb(), 'bomb.png', 'image/png') }));
    expect(res.status).toBe(201);
    const { id, blobName } = (await res.json()) as { id: string; blobName: string };
    await deliverUpload(blobName);
    expect(await (await call('getImage', new Request(`http://h/api/images/${id}`), { id })).json()).toMatchObject({ status: 'rejected', error: { code: 'too_many_pixels' } });
    const content = await call('getImageContent', new Request(`http://h/api/images/${id}/content?size=256`), { id });
    expect(content.status).toBe(415);
  });
});

describe('PATCH api/images/{id}/review and GET content', () => {
  async function classifiedDoc(name: string, profile: string, picks: Record<string, unknown>): Promise<string> {
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, picks) }));
    const out = await app.put(`${profile}/${name}`, await jpeg(640, 480));
    if (!('document' in out)) throw new Error(out.outcome);
    return out.document.id;
  }
  const patch = (id: string, body: unknown): Promise<Response> =>
    call('reviewImage', new Request(`http://h/api/images/${id}/review`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }), { id });

  it('stores a correction beside the model answer, never over it', async () => {
    const id = await classifiedDoc('r1.jpg', 'pets', { label: 'dog' });
    const res = await patch(id, { label: 'cat', note: 'ears', reviewer: 'ana' });
    expect(res.status).toBe(200);
    const stored = await s.store.get(id);
    expect(stored).toMatchObject({ result: { kind: 'single-label', label: 'dog' }, labels: ['dog'], review: { result: { label: 'cat' }, labels: ['cat'], note: 'ears', reviewer: 'ana' } });
  });

  it('merges an attributes correction with the model answer and refuses labels the profile lacks', async () => {
    const id = await classifiedDoc('scene.jpg', 'driving-scene', { weather: 'clear', timeofday: 'daytime', scene: 'highway' });
    expect((await patch(id, { attributes: { weather: 'rainy' } })).status).toBe(200);
    expect((await s.store.get(id))?.review?.labels.sort()).toEqual(['daytime', 'highway', 'rainy']);
    const bad = await patch(id, { attributes: { weather: 'sunny' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/"sunny" is not a label of attribute weather/);
    expect((await patch(id, { label: 'x', extra: 1 })).status).toBe(400);
    expect((await patch('0'.repeat(32), { label: 'cat' })).status).toBe(404);
  });

  it('honours If-Match: the review applies to the version read, else 412 and nothing stored', async () => {
    const id = await classifiedDoc('etag.jpg', 'pets', { label: 'dog' });
    const read = await call('getImage', new Request(`http://h/api/images/${id}`), { id });
    const etag = read.headers.get('etag') ?? '';
    expect(etag).not.toBe('');
    const withTag = (tag: string, body: unknown): Promise<Response> =>
      call('reviewImage', new Request(`http://h/api/images/${id}/review`, { method: 'PATCH', headers: { 'content-type': 'application/json', 'if-match': tag }, body: JSON.stringify(body) }), { id });
    const ok = await withTag(etag, { label: 'cat' });
    expect(ok.status).toBe(200);
    const next = ok.headers.get('etag') ?? '';
    expect(next).not.toBe(etag);
    // The first etag is stale now: a second reviewer working from it is refused, and the first review stays.
    const stale = await withTag(etag, { label: 'dog' });
    expect(stale.status).toBe(412);
    expect(await stale.json()).toMatchObject({ status: 412, code: 'precondition_failed' });
    expect((await s.store.get(id))?.review?.labels).toEqual(['cat']);
    expect((await withTag('"made-up"', { label: 'dog' })).status).toBe(412);
    expect((await withTag(`${next}, "other"`, { label: 'dog' })).status).toBe(200);
    expect((await withTag('*', { label: 'cat' })).status).toBe(200);
  });

  it('refuses review labels and attribute names outside the profile, for every profile kind', async () => {
    const single = await classifiedDoc('k1.jpg', 'pets', { label: 'dog' });
    expect((await patch(single, { label: 'unicorn' })).status).toBe(400);
    const multi = await classifiedDoc('k2.jpg', 'product-tags', {});
    const multiBad = await patch(multi, { labels: ['unicorn'] });
    expect(multiBad.status).toBe(400);
    const attrs = await classifiedDoc('k3.jpg', 'driving-scene', { weather: 'clear', timeofday: 'daytime', scene: 'highway' });
    for (const attributes of [{ colour: 'red' }, JSON.parse('{"__proto__": "rainy"}') as Record<string, string>, JSON.parse('{"weather": "rainy", "__proto__": {"x": 1}}') as Record<string, unknown>]) {
      const res = await call('reviewImage', new Request(`http://h/api/images/${attrs}/review`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(attributes).replace(/^/, '{"attributes":').concat('}') }), { id: attrs });
      expect(res.status, JSON.stringify(attributes)).toBe(400);
    }
    expect((await s.store.get(attrs))?.review).toBeFalsy();

    // An objects document: a category not detected in the image would have kept nothing and dropped every box.
    const base = await s.store.get(single);
    if (base === undefined) throw new Error('missing');
    const objectsId = 'f'.repeat(32);
    const box = { x1: 1, y1: 1, x2: 10, y2: 10 };
    await s.store.upsert({
      ...base,
      id: objectsId,
      profile: { name: 'objects', version: '1' },
      result: { kind: 'objects', objects: [{ label: 'car', detectorClass: 'car', score: 0.9, box }, { label: 'pedestrian', detectorClass: 'person', score: 0.8, box }] },
      labels: ['car', 'pedestrian'],
      review: null,
    } as unknown as Parameters<typeof s.store.upsert>[0]);
    const unicorn = await patch(objectsId, { labels: ['unicorn'] });
    expect(unicorn.status).toBe(400);
    expect(((await unicorn.json()) as { detail: string }).detail).toMatch(/"unicorn" is not a category detected in this image: car, pedestrian/);
    expect((await s.store.get(objectsId))?.review).toBeFalsy();
    const keepCar = await patch(objectsId, { labels: ['car'] });
    expect(keepCar.status).toBe(200);
    expect((await s.store.get(objectsId))?.review?.labels).toEqual(['car']);
  });

  it('names the limit that applied in a 413 for a review body', async () => {
    const id = await classifiedDoc('big-review.jpg', 'pets', { label: 'dog' });
    const res = await patch(id, { label: 'cat', note: 'x'.repeat(70 * 1024) });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { detail: string; maxBytes: number };
    expect(body.maxBytes).toBe(64 * 1024);
    expect(body.detail).not.toContain('MAX_IMAGE_BYTES');
  });

  it('serves an upright JPEG preview at the size asked, with caching headers', async () => {
    const id = await classifiedDoc('big.jpg', 'pets', { label: 'cat' });
    const res = await call('getImageContent', new Request(`http://h/api/images/${id}/content?size=128`), { id });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const sharp = (await import('sharp')).default;
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([128, 96]);
    const again = await call('getImageContent', new Request(`http://h/api/images/${id}/content?size=128`, { headers: { 'if-none-match': res.headers.get('etag') ?? '' } }), { id });
    expect(again.status).toBe(304);
    expect((await call('getImageContent', new Request(`http://h/api/images/${id}/content?size=99999`), { id })).status).toBe(400);
    for (const bad of ['0x80', '1e2', '', '128.0', '+128']) {
      expect((await call('getImageContent', new Request(`http://h/api/images/${id}/content?size=${bad}`), { id })).status, bad).toBe(400);
    }
  });

  it('makes a preview once per image version and size bucket, then serves it without reading the original', async () => {
    const id = await classifiedDoc('once.jpg', 'pets', { label: 'cat' });
    const doc = await s.store.get(id);
    const renditions = s.blobService.getContainerClient(`${s.images.containerName}-renditions`);
    const first = await call('getImageContent', new Request(`http://h/api/images/${id}/content?size=200`), { id });
    expect(first.status).toBe(200);
    const stored: string[] = [];
    for await (const b of renditions.listBlobsFlat({ prefix: `${id}/` })) stored.push(b.name);
    expect(stored).toEqual([`${id}/${(doc?.blob.eTag ?? '').replace(/"/g, '')}/256.jpg`]);

    const reads = vi.spyOn(s.images, 'getBlobClient');
    try {
      for (const size of [256, 100, 64]) {
        const res = await call('getImageContent', new Request(`http://h/api/images/${id}/content?size=${size}`), { id });
        expect(res.status).toBe(200);
        const sharp = (await import('sharp')).default;
        const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
        expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBe(size);
      }
      expect(reads).not.toHaveBeenCalled();
    } finally {
      reads.mockRestore();
    }
  });

  it('serves only blobs of the images container with a plain name', async () => {
    const id = await classifiedDoc('mine.jpg', 'pets', { label: 'cat' });
    const base = await s.store.get(id);
    if (base === undefined) throw new Error('missing');
    // Put a "private" blob elsewhere, as a forged event would have pointed a document at it.
    const other = s.blobService.getContainerClient(`${s.images.containerName}-private`);
    await other.createIfNotExists();
    try {
      await other.getBlockBlobClient('secret.jpg').uploadData(await jpeg(64, 64));
      const cases: Array<[string, { container: string; name: string }]> = [
        ['a' + 'b'.repeat(31), { container: other.containerName, name: 'secret.jpg' }],
        ['c' + 'd'.repeat(31), { container: s.images.containerName, name: `x/../../${other.containerName}/secret.jpg` }],
        ['e' + 'f'.repeat(31), { container: s.images.containerName, name: 'pets/./mine.jpg' }],
        ['1' + '2'.repeat(31), { container: s.images.containerName, name: 'pets\\mine.jpg' }],
        ['3' + '4'.repeat(31), { container: s.images.containerName, name: 'pets//mine.jpg' }],
        ['5' + '6'.repeat(31), { container: s.images.containerName, name: 'pets/mi\u0000ne.jpg' }],
      ];
      for (const [fakeId, blob] of cases) {
        await s.store.upsert({ ...base, id: fakeId, blob: { ...base.blob, ...blob } });
        const res = await call('getImageContent', new Request(`http://h/api/images/${fakeId}/content?size=64`), { id: fakeId });
        expect(res.status, blob.name).toBe(404);
        expect(((await res.json()) as { code: string }).code).toBe('not_servable');
      }
    } finally {
      await other.deleteIfExists();
    }
  });
});

describe('GET api/profiles and the web page', () => {
  it('lists profiles with what the configured model can serve', async () => {
    const body = (await (await call('listProfiles', new Request('http://h/api/profiles'))).json()) as { items: Array<{ name: string; servedByModel: boolean }> };
    const served = Object.fromEntries(body.items.map((p) => [p.name, p.servedByModel]));
    expect(served).toMatchObject({ flowers: true, pets: true, 'driving-scene': true, 'product-tags': true });
  });

  it('serves the page and its assets with a strict CSP, and nothing outside its folder', async () => {
    const page = await call('web', new Request('http://h/'), { path: '' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    for (const path of ['../package.json', 'api/nothing', '.env', 'x/../../host.json']) {
      expect((await call('web', new Request(`http://h/${path}`), { path })).status).toBe(404);
    }
  });
});
