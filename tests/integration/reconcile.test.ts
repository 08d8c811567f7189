/** The reconcile sweep finds what Event Grid dropped, dead-lettered or abandoned, and finishes it. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { ReconcileOptions } from '../../shared/pipeline';
import { reconcile } from '../../shared/pipeline';
import { pipelineDeps } from '../../shared/runtime';
import { documentId } from '../../shared/store';
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
