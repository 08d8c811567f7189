/** Reprocess pays only for new answers; delete leaves nothing behind; the cache sweep expires old answers. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { HttpContext } from '../../shared/http';
import { sweepCache } from '../../shared/lifecycle';
import { silentLogger } from '../../shared/logging';
import { processBlobCreated } from '../../shared/pipeline';
import type { FunctionName, Services } from '../../shared/runtime';
import { httpFunction, pipelineDeps } from '../../shared/runtime';
import type { CacheEntry, ImageDocument } from '../../shared/store';
import { blobCreatedEvent } from '../support/blobEvents';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

let fake: FakeOpenAI;
let app: TestApp;
let s: Services;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  app = await startTestApp(fake, { CACHE_TTL_DAYS: '30' });
  s = app.services;
});
afterAll(async () => {
  await s.blobService.getContainerClient(`${s.images.containerName}-renditions`).deleteIfExists();
  await app.cleanup();
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, schema.properties?.['label'] === undefined ? {} : { label: (schema.properties['label'] as { enum?: string[] }).enum?.[0] ?? 'x' }) }));
});

async function call(name: FunctionName, req: Request, params: Record<string, string> = {}): Promise<Response> {
  const ctx: HttpContext = { params, log: silentLogger };
  return httpFunction(name).handler(req, ctx, s);
}

const chatCalls = (): number => fake.requests.filter((r) => r.path.includes('/chat/completions')).length;

async function putDoc(name: string, bytes: Buffer): Promise<ImageDocument> {
  const out = await app.put(name, bytes);
  if (!('document' in out)) throw new Error(`no document for ${name}: ${out.outcome}`);
  return out.document;
}

async function cacheEntries(sha256: string): Promise<CacheEntry[]> {
  return s.store.query<CacheEntry>({ query: 'SELECT * FROM c WHERE c.type = @t AND c.key.sha256 = @s', parameters: [{ name: '@t', value: 'cache' }, { name: '@s', value: sha256 }] });
}

function reprocess(id: string, body?: unknown): Promise<Response> {
  return call('reprocessImage', new Request(`http://h/api/images/${id}/reprocess`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }), { id });
}

describe('POST /api/images/{id}/reprocess', () => {
  it('serves the same profile and model from the cache (no model call), and pays once for another profile', async () => {
    const doc = await putDoc('pets/again.jpg', await jpeg(90, 60));
    expect(chatCalls()).toBe(1);
    expect(doc.profile?.name).toBe('pets');

    const same = await reprocess(doc.id);
    expect(same.status).toBe(200);
    const sameBody = (await same.json()) as { outcome: string; document: ImageDocument };
    expect(sameBody.outcome).toBe('classified');
    expect(sameBody.document.cached).toMatchObject({ documentId: doc.id });
    expect(sameBody.document.blob.eTag).not.toBe(doc.blob.eTag);
    expect(chatCalls()).toBe(1);

    // Another profile is a new answer: paid once, even though the path says pets.
    const other = (await (await reprocess(doc.id, { profile: 'flowers' })).json()) as { outcome: string; document: ImageDocument };
    expect(other.document.profile?.name).toBe('flowers');
    expect(other.document.cached).toBeNull();
    expect(chatCalls()).toBe(2);
    // And asked again under flowers, it is not paid again.
    const again = (await (await reprocess(doc.id)).json()) as { document: ImageDocument };
    expect(again.document.profile?.name).toBe('flowers');
    expect(chatCalls()).toBe(2);
  });

  it('refuses what it cannot reprocess, with a reason', async () => {
    expect((await reprocess('0'.repeat(32))).status).toBe(404);
    expect((await reprocess('not-an-id')).status).toBe(400);
    const doc = await putDoc('pets/refusals.jpg', await jpeg(30, 30));
    const unknown = await reprocess(doc.id, { profile: 'nope' });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { code: string }).code).toBe('unknown_profile');
    expect((await reprocess(doc.id, { profile: 'pets', extra: 1 })).status).toBe(400);
    await call('reviewImage', new Request(`http://h/api/images/${doc.id}/review`, { method: 'PATCH', body: JSON.stringify({ label: 'cat' }) }), { id: doc.id });
    const reviewed = await reprocess(doc.id);
    expect(reviewed.status).toBe(409);
    expect(((await reviewed.json()) as { code: string }).code).toBe('reviewed');
  });

  it('reprocesses by filter, at most max, paying only for the new answers', async () => {
    const a = await putDoc('product-tags/bulk-a.jpg', await jpeg(31, 20));
    const b = await putDoc('product-tags/bulk-b.jpg', await jpeg(32, 20));
    const before = chatCalls();
    const res = await call('reprocessImages', new Request('http://h/api/images/reprocess', { method: 'POST', body: JSON.stringify({ profile: 'product-tags', max: 5 }) }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { id: string; outcome: string }[]; more: boolean };
    expect(body.items.map((i) => i.id).sort()).toEqual([a.id, b.id].sort());
    expect(body.items.every((i) => i.outcome === 'classified')).toBe(true);
    expect(chatCalls()).toBe(before);
    const capped = (await (await call('reprocessImages', new Request('http://h/api/images/reprocess', { method: 'POST', body: JSON.stringify({ profile: 'product-tags', max: 1, toProfile: 'objects' }) }))).json()) as { items: { id: string; outcome: string }[]; more: boolean };
    expect(capped.items).toHaveLength(1);
    expect(capped.more).toBe(true);
    expect((await call('reprocessImages', new Request('http://h/api/images/reprocess', { method: 'POST', body: JSON.stringify({ max: 1000 }) }))).status).toBe(400);
  });
});

describe('DELETE /api/images/{id}', () => {
  it('removes the blob, its renditions, its cached answers and its document; the BlobDeleted that follows changes nothing', async () => {
    const doc = await putDoc('pets/forget-me.jpg', await jpeg(200, 150));
    const sha = doc.image?.sha256 ?? '';
    // A preview makes a rendition; a reprocess under another profile makes a second cache entry for the bytes.
    expect((await call('getImageContent', new Request(`http://h/api/images/${doc.id}/content?width=64`), { id: doc.id })).status).toBe(200);
    await reprocess(doc.id, { profile: 'flowers' });
    const renditions = s.blobService.getContainerClient(`${s.images.containerName}-renditions`);
    const renditionNames = async (): Promise<string[]> => {
      const names: string[] = [];
      for await (const b of renditions.listBlobsFlat({ prefix: `${doc.id}/` })) names.push(b.name);
      return names;
    };
    expect((await renditionNames()).length).toBeGreaterThan(0);
    expect(await cacheEntries(sha)).toHaveLength(2);

    const res = await call('deleteImage', new Request(`http://h/api/images/${doc.id}`, { method: 'DELETE' }), { id: doc.id });
    expect(res.status).toBe(204);
    expect(await s.images.getBlobClient('pets/forget-me.jpg').exists()).toBe(false);
    expect(await renditionNames()).toEqual([]);
    expect(await cacheEntries(sha)).toEqual([]);
    expect(await s.store.get(doc.id)).toBeUndefined();
    expect((await call('getImage', new Request(`http://h/api/images/${doc.id}`), { id: doc.id })).status).toBe(404);
    // Event Grid's BlobDeleted arrives afterwards: no document is brought back.
    const late = await processBlobCreated({ ...blobCreatedEvent({ container: s.images.containerName, name: 'pets/forget-me.jpg', eTag: doc.blob.eTag, contentLength: 1 }), eventType: 'Microsoft.Storage.BlobDeleted', data: { api: 'DeleteBlob', url: doc.blob.url } }, pipelineDeps(s));
    expect(late.outcome).toBe('ignored');
    expect(await s.store.get(doc.id)).toBeUndefined();
    // Uploading the same bytes again pays for a fresh answer: nothing about them was kept.
    const calls = chatCalls();
    await putDoc('pets/forget-me-2.jpg', await jpeg(200, 150));
    expect(chatCalls()).toBe(calls + 1);
    expect((await call('deleteImage', new Request(`http://h/api/images/${doc.id}`, { method: 'DELETE' }), { id: doc.id })).status).toBe(404);
  });
});

describe('content cache retention', () => {
  it('stamps entries with the TTL Cosmos DB expires them by, and sweeps entries older than CACHE_TTL_DAYS where TTL does not run', async () => {
    const doc = await putDoc('pets/old-answer.jpg', await jpeg(77, 33));
    const [entry] = await cacheEntries(doc.image?.sha256 ?? '');
    if (entry === undefined) throw new Error('no cache entry');
    expect(entry.ttl).toBe(30 * 86_400);
    expect(await sweepCache(s.store, { ttlDays: 30, now: new Date(), limit: 100 })).toEqual({ deleted: 0 });
    expect(await sweepCache(s.store, { ttlDays: 30, now: new Date(Date.now() + 31 * 86_400_000), limit: 100 })).toMatchObject({ deleted: expect.any(Number) });
    expect(await cacheEntries(doc.image?.sha256 ?? '')).toEqual([]);
  });
});
