/** The reconcile sweep finds what Event Grid dropped, dead-lettered or abandoned, and finishes it. */
import type { BlockBlobClient } from '@azure/storage-blob';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { ReconcileOptions, ReconcileReport } from '../../shared/pipeline';
import { reconcile } from '../../shared/pipeline';
import { pipelineDeps } from '../../shared/runtime';
import type { ImageDocument, ImageStore } from '../../shared/store';
import { documentId, scanCursorId } from '../../shared/store';
import { blobCreatedEvent } from '../support/blobEvents';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

let fake: FakeOpenAI;
let app: TestApp;
let options: ReconcileOptions;

beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  fake.reset();
  fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
  app = await startTestApp(fake);
  const deadLetter = app.services.blobService.getContainerClient(`dl-${app.services.images.containerName}`.slice(0, 63));
  await deadLetter.createIfNotExists();
  options = { deadLetter, staleAfterMs: 0, retryHorizonMs: 24 * 3_600_000, maxItems: 50, maxScan: 1000 };
});
afterEach(async () => {
  await options.deadLetter.deleteIfExists();
  await app.cleanup();
});

const id = (name: string): string => documentId(app.services.images.containerName, name);

describe('reconcile', () => {
  it('classifies blobs whose event never arrived', async () => {
    await app.upload('pets/lost-1.jpg', await jpeg(100, 100));
    await app.upload('pets/lost-2.jpg', await jpeg(120, 100));
    const report = await reconcile(pipelineDeps(app.services), options);
    expect(report).toMatchObject({ orphans: 2, stillFailing: 0 });
    expect(await app.services.store.get(id('pets/lost-1.jpg'))).toMatchObject({ status: 'classified', labels: ['dog'] });
    // A second run finds nothing left to do and calls no model.
    const calls = fake.requests.length;
    expect(await reconcile(pipelineDeps(app.services), options)).toMatchObject({ orphans: 0, deadLettered: 0, stale: 0 });
    expect(fake.requests.length).toBe(calls);
  });

  it('replays dead-lettered events and removes the dead-letter blob once settled', async () => {
    const u = await app.upload('pets/dead.jpg', await jpeg());
    const event = { ...blobCreatedEvent({ container: app.services.images.containerName, name: 'pets/dead.jpg', eTag: u.eTag, contentLength: u.contentLength }), deadLetterReason: 'MaxDeliveryAttemptsExceeded', deliveryAttempts: 30 };
    const dl = options.deadLetter.getBlockBlobClient('topic/sub/2026/11/23/10/x.json');
    await dl.upload(JSON.stringify([event]), 100);
    expect(await reconcile(pipelineDeps(app.services), { ...options, staleAfterMs: 3_600_000 })).toMatchObject({ deadLettered: 1 });
    expect((await app.services.store.get(id('pets/dead.jpg')))?.status).toBe('classified');
    expect(await dl.exists()).toBe(false);
  });

  it('keeps a dead-letter blob whose event still fails, for the next run', async () => {
    const u = await app.upload('pets/flaky.jpg', await jpeg());
    const dl = options.deadLetter.getBlockBlobClient('topic/sub/flaky.json');
    await dl.upload(JSON.stringify([blobCreatedEvent({ container: app.services.images.containerName, name: 'pets/flaky.jpg', eTag: u.eTag, contentLength: u.contentLength })]), 10);
    fake.enqueue({ kind: 'server-error', status: 503 });
    expect(await reconcile(pipelineDeps(app.services), { ...options, staleAfterMs: 3_600_000 })).toMatchObject({ deadLettered: 0, stillFailing: 1 });
    expect(await dl.exists()).toBe(true);
    expect(await reconcile(pipelineDeps(app.services), { ...options, staleAfterMs: 3_600_000 })).toMatchObject({ deadLettered: 1 });
    expect(await dl.exists()).toBe(false);
  });

  it('redoes abandoned claims, and finalises as failed with the last error those past the retry horizon', async () => {
    const a = await app.upload('pets/abandoned.jpg', await jpeg(90, 90));
    const b = await app.upload('pets/hopeless.jpg', await jpeg(80, 80));
    fake.enqueue({ kind: 'server-error', status: 500 }, { kind: 'server-error', status: 500 });
    await expect(app.deliver('pets/abandoned.jpg', a)).rejects.toMatchObject({ kind: 'transient' });
    await expect(app.deliver('pets/hopeless.jpg', b)).rejects.toMatchObject({ kind: 'transient' });
    const hopeless = await app.services.store.get(id('pets/hopeless.jpg'));
    if (hopeless === undefined) throw new Error('expected a processing document');
    // Pretend its first attempt was two days ago.
    await app.services.store.upsert({ ...hopeless, firstAttemptAt: new Date(Date.now() - 48 * 3_600_000).toISOString() });
    const report = await reconcile(pipelineDeps(app.services), options);
    expect(report).toMatchObject({ stale: 1, finalisedFailed: 1 });
    expect(await app.services.store.get(id('pets/abandoned.jpg'))).toMatchObject({ status: 'classified' });
    expect(await app.services.store.get(id('pets/hopeless.jpg'))).toMatchObject({ status: 'failed', error: { code: 'model_unavailable' } });
  });

  it('does at most maxItems per run', async () => {
    for (let i = 0; i < 4; i++) await app.upload(`pets/many-${i}.jpg`, await jpeg(60 + i, 60));
    expect((await reconcile(pipelineDeps(app.services), { ...options, maxItems: 3 })).orphans).toBe(3);
    expect((await reconcile(pipelineDeps(app.services), { ...options, maxItems: 3 })).orphans).toBe(1);
  });
});

/** The store, except that writing the document of `blobName` fails with a plain (not transient) error. */
function storeFailingFor(store: ImageStore, blobName: string): ImageStore {
  return new Proxy(store, {
    get(target, p): unknown {
      if (p === 'create' || p === 'replace' || p === 'upsert') {
        return (doc: ImageDocument, ...rest: unknown[]): Promise<unknown> =>
          doc.blob.name === blobName ? Promise.reject(new Error(`boom on ${blobName}`)) : (Reflect.get(target, p, target) as (...a: unknown[]) => Promise<unknown>).call(target, doc, ...rest);
      }
      const v: unknown = Reflect.get(target, p, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('reconcile isolates every item', () => {
  const deadLetterOf = async (name: string, blob: string, u: { eTag: string; contentLength: number }): Promise<BlockBlobClient> => {
    const dl = options.deadLetter.getBlockBlobClient(name);
    await dl.upload(JSON.stringify([blobCreatedEvent({ container: app.services.images.containerName, name: blob, eTag: u.eTag, contentLength: u.contentLength })]), 10);
    return dl;
  };

  it('records, counts and skips an item that fails with any error; the rest of the run goes on', async () => {
    for (const n of ['a', 'bad', 'c']) await app.upload(`pets/${n}.jpg`, await jpeg(70, 70));
    const deps = { ...pipelineDeps(app.services), store: storeFailingFor(app.services.store, 'pets/bad.jpg') };
    const report = await reconcile(deps, options);
    expect(report).toMatchObject({ orphans: 2, errored: 1, stillFailing: 0 });
    expect(report.failures).toEqual([expect.objectContaining({ step: 'scan', item: 'pets/bad.jpg', transient: false, message: 'boom on pets/bad.jpg' })]);
    expect(await app.services.store.get(id('pets/c.jpg'))).toMatchObject({ status: 'classified' });
  });

  it('moves a dead letter that fails for good to poison/ with the reason, and replays the next one', async () => {
    const bad = await deadLetterOf('TOPIC/SUB/2026/11/30/10/bad.json', 'pets/bad.jpg', await app.upload('pets/bad.jpg', await jpeg()));
    const good = await deadLetterOf('TOPIC/SUB/2026/11/30/10/good.json', 'pets/good.jpg', await app.upload('pets/good.jpg', await jpeg(50, 40)));
    const deps = { ...pipelineDeps(app.services), store: storeFailingFor(app.services.store, 'pets/bad.jpg') };
    const report = await reconcile(deps, { ...options, staleAfterMs: 3_600_000 });
    expect(report).toMatchObject({ deadLettered: 1, errored: 1, movedAside: 1 });
    expect(await bad.exists()).toBe(false);
    expect(await good.exists()).toBe(false);
    const aside = options.deadLetter.getBlobClient('poison/TOPIC/SUB/2026/11/30/10/bad.json');
    expect((await aside.getProperties()).metadata).toMatchObject({ reconcilereason: expect.stringMatching(/^failed for good on pets\/bad\.jpg: Error: boom/) as unknown });
    // Kept whole for a person to look at (and to move back once fixed); no later run reads it again.
    expect(JSON.parse((await aside.downloadToBuffer()).toString('utf8'))).toHaveLength(1);
    expect(await reconcile(pipelineDeps(app.services), { ...options, staleAfterMs: 3_600_000 })).toMatchObject({ deadLettered: 0, movedAside: 0, failures: [] });
  });

  it('moves aside a dead letter still failing transiently after maxDeadLetterAttempts runs', async () => {
    const dl = await deadLetterOf('TOPIC/SUB/2026/11/30/11/slow.json', 'pets/slow.jpg', await app.upload('pets/slow.jpg', await jpeg()));
    fake.enqueue({ kind: 'server-error', status: 503 }, { kind: 'server-error', status: 503 });
    const o = { ...options, staleAfterMs: 3_600_000, maxDeadLetterAttempts: 2 };
    expect(await reconcile(pipelineDeps(app.services), o)).toMatchObject({ stillFailing: 1, movedAside: 0 });
    expect((await dl.getProperties()).metadata).toMatchObject({ reconcileattempts: '1' });
    expect(await reconcile(pipelineDeps(app.services), o)).toMatchObject({ stillFailing: 1, movedAside: 1 });
    expect(await dl.exists()).toBe(false);
    const aside = options.deadLetter.getBlobClient('poison/TOPIC/SUB/2026/11/30/11/slow.json');
    expect((await aside.getProperties()).metadata?.['reconcilereason']).toMatch(/^still failing after 2 runs: model_unavailable/);
  });

  it('moves aside an unreadable dead-letter blob instead of reading it again every run', async () => {
    const dl = options.deadLetter.getBlockBlobClient('TOPIC/SUB/2026/11/30/12/torn.json');
    await dl.upload('[{"id": "half an eve', 21);
    expect(await reconcile(pipelineDeps(app.services), options)).toMatchObject({ movedAside: 1, errored: 0 });
    expect(await dl.exists()).toBe(false);
    const aside = options.deadLetter.getBlobClient('poison/TOPIC/SUB/2026/11/30/12/torn.json');
    expect((await aside.getProperties()).metadata?.['reconcilereason']).toMatch(/^unreadable: not JSON/);
    expect((await aside.downloadToBuffer()).toString('utf8')).toBe('[{"id": "half an eve');
    expect(await reconcile(pipelineDeps(app.services), options)).toMatchObject({ movedAside: 0, failures: [] });
  });

  it('pages processing documents by id while they are rewritten: each stale claim is redone exactly once', async () => {
    const old = new Date(Date.now() - 3_600_000).toISOString();
    const n = 60;
    for (let i = 0; i < n; i++) {
      const name = `claims/${String(i).padStart(2, '0')}.jpg`;
      const u = await app.upload(name, Buffer.from('not an image'));
      await app.services.store.create({
        id: id(name),
        type: 'image',
        blob: { container: app.services.images.containerName, name, url: app.services.images.getBlobClient(name).url, eTag: u.eTag, contentLength: u.contentLength, contentType: 'image/jpeg', sequencer: null },
        profile: null,
        status: 'processing',
        result: null,
        labels: [],
        confidence: null,
        confidenceSource: null,
        model: null,
        usage: { promptTokens: 0, completionTokens: 0, costUsd: 0, modelCalls: 0 },
        timings: { downloadMs: null, preprocessMs: null, modelMs: null, totalMs: 0 },
        image: null,
        error: null,
        lease: { owner: 'dead-worker', expiresAt: old },
        attempts: 1,
        firstAttemptAt: old,
        lastError: null,
        source: { eventId: null, eventTime: null },
        createdAt: old,
        updatedAt: old,
      });
    }
    // 60 claims, pages of 50: the first page's documents leave `processing` while the second page is read.
    const report = await reconcile(pipelineDeps(app.services), { ...options, staleAfterMs: 60_000, maxItems: 200 });
    expect(report).toMatchObject({ stale: n, orphans: 0, failures: [] });
    const left = await app.services.store.list({ status: 'processing', limit: 100 });
    expect(left.items).toEqual([]);
  });
});

describe('the reconcile scan cursor', () => {
  it('is a document of its own type, never listed by the API, read by any instance', async () => {
    await app.upload('pets/one.jpg', await jpeg());
    await reconcile(pipelineDeps(app.services), { ...options, maxScan: 1 });
    const cursor = await app.services.store.scanCursors().read(app.services.images.containerName, new Date());
    expect(cursor).toMatchObject({ type: 'scanCursor', container: app.services.images.containerName, pass: 2, marker: null });
    expect(cursor._etag).toEqual(expect.any(String));
    expect(await app.services.store.get(scanCursorId(app.services.images.containerName))).toBeUndefined();
    const listed = await app.services.store.list({ limit: 100 });
    expect(listed.items.map((d) => d.type)).toEqual(['image']);
  });

  it('stays whole when two runs move it at once, and the scan still covers every blob', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `race/${i}.jpg`);
    for (const [i, n] of names.entries()) await app.upload(n, await jpeg(40 + i, 40));
    const o = { ...options, maxScan: 2 };
    const [a, b] = await Promise.all([reconcile(pipelineDeps(app.services), o), reconcile(pipelineDeps(app.services), o)]);
    // Both started from the same (absent) cursor; one stored its position, the other found it moved and kept it.
    expect([a.scan.cursorConflict, b.scan.cursorConflict].sort()).toEqual([false, true]);
    const runs: ReconcileReport[] = [];
    for (let i = 0; i < 2; i++) runs.push(await reconcile(pipelineDeps(app.services), o));
    expect(runs.map((r) => r.scan.wrapped)).toEqual([false, true]);
    for (const n of names) expect((await app.services.store.get(id(n)))?.status).toBe('classified');
    expect(await app.services.store.scanCursors().read(app.services.images.containerName, new Date())).toMatchObject({ pass: 2, marker: null, scannedThisPass: 0 });
  });
});
