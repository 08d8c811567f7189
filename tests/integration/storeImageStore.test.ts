import type { Container } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isTransientError } from '../../shared/errors';
import type { ImageDocument, ListFilter } from '../../shared/store';
import { createCosmosContainer, documentId, ImageStore, isInvalidContinuationTokenError } from '../../shared/store';
import type { Disposable } from '../support/emulators';
import { createTestCosmosContainer } from '../support/emulators';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

function imageDoc(name: string, o: Partial<ImageDocument> = {}): ImageDocument {
  return {
    id: documentId('images', name),
    type: 'image',
    blob: { container: 'images', name, url: `http://127.0.0.1/devstoreaccount1/images/${name}`, eTag: '"0x1"', contentLength: 1234, contentType: 'image/jpeg', sequencer: null },
    profile: { name: 'product-tags', version: '1' },
    status: 'classified',
    result: { kind: 'single-label', label: 'shoe', confidence: 0.9 },
    labels: ['shoe'],
    confidence: 0.9,
    confidenceSource: 'logprobs',
    model: { provider: 'azure-openai', deployment: 'gpt-4o', apiVersion: '2024-10-21', reportedModel: 'gpt-4o-2024-11-20' },
    usage: { promptTokens: 300, completionTokens: 20, costUsd: 0.001, modelCalls: 1 },
    timings: { downloadMs: 5, preprocessMs: 10, modelMs: 900, totalMs: 920 },
    image: { width: 640, height: 480, format: 'jpeg', sha256: 'a'.repeat(64) },
    error: null,
    source: { eventId: 'e1', eventTime: at(0) },
    createdAt: at(0),
    updatedAt: at(0),
    ...o,
  };
}

const ids = (docs: ImageDocument[]): string[] => docs.map((d) => d.blob.name);

async function listAll(store: ImageStore, filter: Omit<ListFilter, 'continuationToken'>): Promise<{ pages: string[][]; last: string | null }> {
  const pages: string[][] = [];
  let token: string | undefined;
  for (let i = 0; i < 20; i++) {
    const page = await store.list({ ...filter, ...(token === undefined ? {} : { continuationToken: token }) });
    pages.push(ids(page.items));
    if (page.continuationToken === null) return { pages, last: null };
    token = page.continuationToken;
  }
  throw new Error('more than 20 pages');
}

describe('ImageStore get/upsert', () => {
  let box: Disposable<Container>;
  let store: ImageStore;
  beforeAll(async () => {
    box = await createTestCosmosContainer('store-crud');
    store = new ImageStore(box.value);
  });
  afterAll(async () => box.cleanup());

  it('round-trips a document and returns it without Cosmos system properties, with its _etag', async () => {
    const doc = imageDoc('cats/tabby 1.jpg');
    const written = await store.upsert(doc);
    const read = await store.get(doc.id);

    expect(read).toEqual(written);
    expect(read).toMatchObject(doc);
    expect(read?._etag).toEqual(expect.any(String));
    for (const key of ['_rid', '_self', '_ts', '_attachments']) expect(read).not.toHaveProperty(key);
  });

  it('replaces the document on a second upsert and changes its _etag', async () => {
    const doc = imageDoc('cats/tabby 2.jpg', { status: 'processing', result: null, labels: [], confidence: null });
    const first = await store.upsert(doc);
    const second = await store.upsert({ ...doc, status: 'classified', labels: ['cat'], updatedAt: at(5) });

    expect(await store.get(doc.id)).toMatchObject({ status: 'classified', labels: ['cat'], updatedAt: at(5) });
    expect(second._etag).not.toBe(first._etag);
  });

  it('answers undefined for a missing id, an id Cosmos cannot hold, and a document that is not an image', async () => {
    await box.value.items.upsert({ id: 'cache-entry-1', type: 'cache', labels: ['shoe'] });

    expect(await store.get(documentId('images', 'never uploaded.jpg'))).toBeUndefined();
    expect(await store.get('../etc/passwd')).toBeUndefined();
    expect(await store.get('cache-entry-1')).toBeUndefined();
  });
});

describe('ImageStore.list', () => {
  let box: Disposable<Container>;
  let store: ImageStore;

  // updatedAt minutes make the expected order explicit: higher first.
  const fixtures = [
    imageDoc('p1.jpg', { updatedAt: at(1), status: 'classified', labels: ['shoe'], confidence: 0.95 }),
    imageDoc('p2.jpg', { updatedAt: at(2), status: 'needs_review', labels: ['bag'], confidence: 0.4 }),
    imageDoc('p3.jpg', { updatedAt: at(3), status: 'rejected', labels: [], confidence: null, result: null, profile: null, error: { code: 'unsupported_format', message: 'not an image' } }),
    imageDoc('d1.jpg', {
      updatedAt: at(4),
      profile: { name: 'driving-scenes', version: '2' },
      result: { kind: 'attributes', attributes: { weather: { label: 'rainy', confidence: 0.8 }, timeofday: { label: 'night', confidence: 0.7 } } },
      labels: ['rainy', 'night'],
      confidence: 0.7,
    }),
    imageDoc('d2.jpg', {
      updatedAt: at(5),
      profile: { name: 'driving-scenes', version: '2' },
      result: { kind: 'attributes', attributes: { weather: { label: 'clear', confidence: 0.9 }, timeofday: { label: 'night', confidence: 0.6 } } },
      labels: ['clear', 'night'],
      confidence: 0.6,
    }),
    imageDoc('p4.jpg', { updatedAt: at(6), status: 'failed', labels: [], confidence: null, result: null, error: { code: 'model_unavailable', message: 'gave up' } }),
    imageDoc('p5.jpg', {
      updatedAt: at(7),
      result: { kind: 'multi-label', labels: [{ label: 'shoe', confidence: 0.8 }, { label: 'bag', confidence: 0.5 }] },
      labels: ['shoe', 'bag'],
      confidence: 0.5,
    }),
  ];

  beforeAll(async () => {
    box = await createTestCosmosContainer('store-list');
    store = new ImageStore(box.value);
    for (const doc of fixtures) await store.upsert(doc);
    // Other kinds of documents share the container and must never be listed.
    await box.value.items.upsert({ id: 'cache-x', type: 'cache', labels: ['shoe'], status: 'classified', updatedAt: at(9) });
  });
  afterAll(async () => box.cleanup());

  it('lists image documents newest update first', async () => {
    const page = await store.list({ limit: 100 });
    expect(ids(page.items)).toEqual(['p5.jpg', 'p4.jpg', 'd2.jpg', 'd1.jpg', 'p3.jpg', 'p2.jpg', 'p1.jpg']);
    expect(page.continuationToken).toBeNull();
    expect(page.items[0]).toMatchObject(fixtures[6] as ImageDocument);
  });

  it.each<[string, Omit<ListFilter, 'limit'>, string[]]>([
    ['status', { status: 'needs_review' }, ['p2.jpg']],
    ['label (single- and multi-label results)', { label: 'shoe' }, ['p5.jpg', 'p1.jpg']],
    ['label on attributes results', { label: 'rainy' }, ['d1.jpg']],
    ['label shared by attributes documents', { label: 'night' }, ['d2.jpg', 'd1.jpg']],
    ['profile', { profile: 'driving-scenes' }, ['d2.jpg', 'd1.jpg']],
    ['minConfidence (inclusive; null never matches)', { minConfidence: 0.7 }, ['d1.jpg', 'p1.jpg']],
    ['maxConfidence (inclusive)', { maxConfidence: 0.5 }, ['p5.jpg', 'p2.jpg']],
    ['confidence range', { minConfidence: 0.5, maxConfidence: 0.7 }, ['p5.jpg', 'd2.jpg', 'd1.jpg']],
    ['since (inclusive)', { since: at(5) }, ['p5.jpg', 'p4.jpg', 'd2.jpg']],
    ['since with an offset, compared as a time', { since: '2026-01-01T14:05:30+02:00' }, ['p5.jpg', 'p4.jpg']],
    ['filters combined', { profile: 'product-tags', label: 'bag', minConfidence: 0.45 }, ['p5.jpg']],
    ['no match', { label: 'giraffe' }, []],
  ])('filters by %s', async (_name, filter, expected) => {
    const page = await store.list({ ...filter, limit: 100 });
    expect(ids(page.items)).toEqual(expected);
    expect(page.continuationToken).toBeNull();
  });

  it('pages through continuation tokens: 7 documents, limit 3, 3 pages, each once, in order', async () => {
    const { pages } = await listAll(store, { limit: 3 });

    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual(['p5.jpg', 'p4.jpg', 'd2.jpg', 'd1.jpg', 'p3.jpg', 'p2.jpg', 'p1.jpg']);
  });

  it('pages a filtered query and hands out tokens safe to put in a URL', async () => {
    const first = await store.list({ label: 'night', limit: 1 });
    expect(ids(first.items)).toEqual(['d2.jpg']);
    expect(first.continuationToken).toMatch(/^[A-Za-z0-9_-]+$/);

    const second = await store.list({ label: 'night', limit: 1, continuationToken: first.continuationToken as string });
    expect(ids(second.items)).toEqual(['d1.jpg']);
  });

  it('refuses a malformed continuation token, or one issued for a different filter', async () => {
    const first = await store.list({ status: 'classified', limit: 1 });
    const token = first.continuationToken as string;
    expect(token).toEqual(expect.any(String));

    for (const bad of ['garbage!', 'eyJ2IjoxfQ', Buffer.from('{"v":1,"q":"x","c":"y"}').toString('base64url'), '{"token":"x"}']) {
      const error = await store.list({ status: 'classified', limit: 1, continuationToken: bad }).catch((e: unknown) => e);
      expect(isInvalidContinuationTokenError(error), bad).toBe(true);
    }
    const otherFilter = await store.list({ status: 'failed', limit: 1, continuationToken: token }).catch((e: unknown) => e);
    expect(isInvalidContinuationTokenError(otherFilter)).toBe(true);
    expect((otherFilter as Error).message).toMatch(/different filter/);

    // The same filter with another page size may continue.
    expect((await store.list({ status: 'classified', limit: 5, continuationToken: token })).items.length).toBeGreaterThan(0);
  });

  it('refuses a limit outside 1..1000 and a since that is not a date', async () => {
    await expect(store.list({ limit: 0 })).rejects.toThrow(RangeError);
    await expect(store.list({ limit: 1001 })).rejects.toThrow(RangeError);
    await expect(store.list({ limit: 2.5 })).rejects.toThrow(RangeError);
    await expect(store.list({ limit: 5, since: 'yesterday' })).rejects.toThrow(RangeError);
  });
});

describe('ImageStore when Cosmos cannot be reached', () => {
  it('throws TransientError store_unavailable from get, upsert and list', async () => {
    const container = await createCosmosContainer({ endpoint: 'http://127.0.0.1:1', key: 'unused', database: 'db', container: 'images', createIfMissing: false });
    const store = new ImageStore(container);

    for (const attempt of [() => store.get('abc'), () => store.upsert(imageDoc('x.jpg')), () => store.list({ limit: 1 })]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(isTransientError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'store_unavailable' });
    }
  });
});
