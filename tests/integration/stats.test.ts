/** Per-day counters on the emulators: exact under duplicate, concurrent and crash-interrupted deliveries; reviews adjust. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { isTransientError } from '../../shared/errors';
import { reviewHttp, statsHttp } from '../../shared/http';
import type { BlobOutcome } from '../../shared/pipeline';
import { processBlobCreated, reconcile } from '../../shared/pipeline';
import { pipelineDeps } from '../../shared/runtime';
import type { StatsSummary } from '../../shared/stats';
import { dayOf } from '../../shared/stats';
import type { ImageDocument } from '../../shared/store';
import { documentId } from '../../shared/store';
import { blobCreatedEvent } from '../support/blobEvents';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

let fake: FakeOpenAI;
let app: TestApp;

beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  fake.reset();
  fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'cat' }) }));
  app = await startTestApp(fake);
});
afterEach(async () => {
  await app.cleanup();
});

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

type StatsBody = StatsSummary & { budget: { dailyUsd: number | null; spentTodayUsd: number; reached: boolean } };

async function getStats(query = ''): Promise<StatsBody> {
  const res = await statsHttp(new Request(`http://localhost/api/stats${query}`), { params: {}, log: silent }, { stats: app.services.stats, budget: app.services.budget });
  expect(res.status).toBe(200);
  return (await res.json()) as StatsBody;
}

/** Event Grid: deliver again after a transient error, a bounded number of times. */
async function deliverUntilDone(deliver: () => Promise<BlobOutcome>, tries = 20): Promise<BlobOutcome> {
  for (let i = 1; ; i++) {
    try {
      return await deliver();
    } catch (e) {
      if (!isTransientError(e) || i >= tries) throw e;
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 50));
    }
  }
}

function docOf(o: BlobOutcome): ImageDocument {
  if (!('document' in o)) throw new Error(`expected a document, got ${o.outcome}`);
  return o.document;
}

describe('result counters', () => {
  it('count one result once when the same event is delivered twice, and match the document', async () => {
    const u = await app.upload('pets/twice.jpg', await jpeg(200, 150));
    const first = docOf(await app.deliver('pets/twice.jpg', u));
    const second = await app.deliver('pets/twice.jpg', u);
    expect(second.outcome).toBe('duplicate');
    const s = await getStats();
    expect(s.window.results).toBe(1);
    expect(s.window.byStatus).toEqual({ classified: 1 });
    expect(s.window.byLabel).toEqual({ cat: 1 });
    expect(s.window.byProfile).toEqual({ [first.profile?.name ?? '']: { results: 1, byStatus: { classified: 1 } } });
    expect(s.today).toEqual({ results: 1, promptTokens: first.usage.promptTokens, completionTokens: first.usage.completionTokens, costUsd: first.usage.costUsd });
    expect(first.usage.promptTokens).toBeGreaterThan(0);
    expect(s.total.results).toBe(1);
    expect(s.window.latency.model.counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(s.window.latency.model.p50).toBeGreaterThanOrEqual(first.timings.modelMs ?? Infinity);
    expect(s.series.at(-1)).toMatchObject({ day: dayOf(new Date().toISOString()), results: 1 });
    expect(s.series).toHaveLength(7);
  });

  it('stay exact under concurrent duplicate deliveries of several images', async () => {
    fake.enqueue({ kind: 'slow', delayMs: 200 });
    const names = ['pets/c0.jpg', 'pets/c1.jpg', 'pets/c2.jpg'];
    const uploads = await Promise.all(names.map(async (n, i) => app.upload(n, await jpeg(120 + i * 10, 90, { colour: ['#102030', '#405060', '#708090'][i] ?? '#000' }))));
    // Four deliveries of each, all at once: three images, twelve deliveries, three results.
    const out = await Promise.all(names.flatMap((n, i) => Array.from({ length: 4 }, () => deliverUntilDone(() => app.deliver(n, uploads[i] ?? { eTag: '', contentLength: 0 })))));
    expect(out.filter((o) => o.outcome === 'classified')).toHaveLength(3);
    const s = await getStats();
    expect(s.window.results).toBe(3);
    expect(s.window.byLabel).toEqual({ cat: 3 });
    const docs = out.filter((o) => o.outcome === 'classified').map(docOf);
    const cost = docs.reduce((a, d) => a + (d.usage.costUsd ?? 0), 0);
    expect(s.today.costUsd).toBeCloseTo(cost, 9);
    expect(s.today.promptTokens).toBe(docs.reduce((a, d) => a + d.usage.promptTokens, 0));
  });

  it('count a result whose worker crashed between the final write and the count, once, on the redelivery', async () => {
    const u = await app.upload('pets/crash.jpg', await jpeg(160, 120));
    const event = blobCreatedEvent({ container: app.services.images.containerName, name: 'pets/crash.jpg', eTag: u.eTag, contentLength: u.contentLength });
    const crashing = {
      recordResult: (): Promise<boolean> => Promise.reject(new Error('process killed after the final write')),
    };
    await expect(processBlobCreated(event, { ...pipelineDeps(app.services), stats: crashing })).rejects.toThrow('process killed');
    // The document is final, but nothing is counted yet.
    expect((await getStats()).window.results).toBe(0);
    // Event Grid got no answer, so it delivers again: a duplicate, which counts the stored result.
    const again = await app.deliver('pets/crash.jpg', u);
    expect(again.outcome).toBe('duplicate');
    // And once more (another redelivery): still one.
    await app.deliver('pets/crash.jpg', u);
    const s = await getStats();
    expect(s.window.results).toBe(1);
    expect(s.window.byStatus).toEqual({ classified: 1 });
  });

  it('count rejected and needs-review results, a new blob version as a new result, and compute the shares', async () => {
    await app.put('pets/empty.jpg', Buffer.alloc(0));
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }), confidence: 0.2 }));
    const low = docOf(await app.put('pets/unsure.jpg', await jpeg(100, 100, { colour: '#abcdef' })));
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'cat' }) }));
    await app.put('pets/v.jpg', await jpeg(110, 100, { colour: '#111111' }));
    await app.put('pets/v.jpg', await jpeg(112, 100, { colour: '#222222' }));
    const s = await getStats('?days=1');
    expect(s.days).toBe(1);
    expect(s.window.results).toBe(4);
    expect(s.window.byStatus['rejected']).toBe(1);
    expect(s.window.byStatus[low.status]).toBeGreaterThanOrEqual(1);
    expect(s.window.shares.rejected).toBe(0.25);
    const needsReview = s.window.byStatus['needs_review'] ?? 0;
    expect(s.window.shares.needsReview).toBe(needsReview / 4);
  });
});

describe('results the reconcile sweep finishes', () => {
  it('count once: a redone claim and a version finalised failed past the retry horizon', async () => {
    const a = await app.upload('pets/abandoned.jpg', await jpeg(90, 90));
    const b = await app.upload('pets/hopeless.jpg', await jpeg(80, 80));
    fake.enqueue({ kind: 'server-error', status: 500 }, { kind: 'server-error', status: 500 });
    await expect(app.deliver('pets/abandoned.jpg', a)).rejects.toMatchObject({ kind: 'transient' });
    await expect(app.deliver('pets/hopeless.jpg', b)).rejects.toMatchObject({ kind: 'transient' });
    const hopeless = await app.services.store.get(documentId(app.services.images.containerName, 'pets/hopeless.jpg'));
    if (hopeless === undefined) throw new Error('expected a processing document');
    await app.services.store.upsert({ ...hopeless, firstAttemptAt: new Date(Date.now() - 48 * 3_600_000).toISOString() });
    const deadLetter = app.services.blobService.getContainerClient(`dl-${app.services.images.containerName}`.slice(0, 63));
    await deadLetter.createIfNotExists();
    try {
      const options = { deadLetter, staleAfterMs: 0, retryHorizonMs: 24 * 3_600_000, maxItems: 50, maxScan: 1000 };
      expect(await reconcile(pipelineDeps(app.services), options)).toMatchObject({ stale: 1, finalisedFailed: 1 });
      await reconcile(pipelineDeps(app.services), options);
    } finally {
      await deadLetter.deleteIfExists();
    }
    const s = await getStats();
    expect(s.window.byStatus).toEqual({ classified: 1, failed: 1 });
    expect(s.window.shares.failed).toBe(0.5);
  });
});

describe('reviewed accuracy', () => {
  async function review(id: string, body: unknown): Promise<ImageDocument> {
    const res = await reviewHttp(new Request(`http://localhost/api/images/${id}/review`, { method: 'PATCH', body: JSON.stringify(body) }), { params: { id }, log: silent }, { store: app.services.store, profiles: app.services.profiles, stats: app.services.stats });
    expect(res.status).toBe(200);
    return (await res.json()) as ImageDocument;
  }

  it('counts a review, replaces it when the review changes, and never counts one twice', async () => {
    const a = docOf(await app.put('pets/r1.jpg', await jpeg(100, 90, { colour: '#010203' })));
    const b = docOf(await app.put('pets/r2.jpg', await jpeg(100, 91, { colour: '#040506' })));
    await review(a.id, { label: 'cat', reviewer: 'ann' });
    await review(b.id, { label: 'dog', reviewer: 'ann' });
    let s = await getStats();
    expect(s.window.reviews).toMatchObject({ reviewed: 2, agreed: 1, accuracy: 0.5 });
    expect(s.window.reviews.byLabel['cat']).toEqual({ reviewed: 2, agreed: 1, accuracy: 0.5 });
    // Changed her mind on b: still two reviewed images, now both agreed.
    const changed = await review(b.id, { label: 'cat', reviewer: 'ann' });
    s = await getStats();
    expect(s.window.reviews).toMatchObject({ reviewed: 2, agreed: 2, accuracy: 1 });
    // A repeated count of the same review (a retry) changes nothing; neither does the older review arriving late.
    const stored = await app.services.store.get(b.id);
    if (stored === undefined) throw new Error('missing');
    expect(await app.services.stats.recordReview(stored)).toBe(false);
    expect(await app.services.stats.recordReview({ ...stored, review: { ...changed.review!, labels: ['dog'], reviewedAt: '2000-01-01T00:00:00.000Z' } })).toBe(false);
    s = await getStats();
    expect(s.window.reviews).toMatchObject({ reviewed: 2, agreed: 2 });
    expect(s.series.at(-1)).toMatchObject({ reviewed: 2, agreed: 2, accuracy: 1 });
    // The review did not make the result count again.
    expect(s.window.results).toBe(2);
  });
});

describe('GET /api/stats', () => {
  it('refuses a days value out of range with a reason', async () => {
    for (const q of ['?days=0', '?days=91', '?days=abc', '?days=1.5']) {
      const res = await statsHttp(new Request(`http://localhost/api/stats${q}`), { params: {}, log: silent }, { stats: app.services.stats, budget: app.services.budget });
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/days must be a whole number from 1 to 90/);
    }
  });
});
