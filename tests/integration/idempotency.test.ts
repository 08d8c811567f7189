/** Never lose an image, never pay twice: claims, the content cache, leases, deletes and the time budget, on the emulators. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { isTransientError } from '../../shared/errors';
import type { BlobOutcome } from '../../shared/pipeline';
import { documentId } from '../../shared/store';
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

const modelCalls = (): number => fake.requests.filter((r) => r.path.endsWith('/chat/completions')).length;

/** What Event Grid does: deliver, and on a thrown (transient) error deliver again after a while; bounded. */
async function deliverUntilDone(deliver: () => Promise<BlobOutcome>, tries = 20): Promise<BlobOutcome> {
  for (let i = 1; ; i++) {
    try {
      return await deliver();
    } catch (e) {
      if (!isTransientError(e) || i >= tries) throw e;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  }
}

describe('claims', () => {
  it('eight concurrent deliveries of one upload make exactly one model call and one document', async () => {
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'cat' }) }));
    const u = await app.upload('pets/burst.jpg', await jpeg(400, 300));
    // Slow the model so the deliveries overlap while the first holds the claim.
    fake.enqueue({ kind: 'slow', delayMs: 400 });
    const results = await Promise.all(Array.from({ length: 8 }, () => deliverUntilDone(() => app.deliver('pets/burst.jpg', u, { sequencer: '00000000000000000000000000000b01' }))));
    expect(modelCalls()).toBe(1);
    expect(results.filter((r) => r.outcome === 'classified')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(7);
    const { items } = await app.services.store.list({ limit: 10 });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ status: 'classified', lease: null, usage: { modelCalls: 1 } });
  });

  it('a live claim by another worker makes a delivery ask for redelivery without calling the model', async () => {
    const u = await app.upload('pets/held.jpg', await jpeg());
    const id = documentId(app.services.images.containerName, 'pets/held.jpg');
    const { pipelineDeps } = await import('../../shared/runtime/createServices.js');
    const { processBlobCreated } = await import('../../shared/pipeline/processBlobCreated.js');
    const { blobCreatedEvent } = await import('../support/blobEvents.js');
    const event = blobCreatedEvent({ container: app.services.images.containerName, name: 'pets/held.jpg', eTag: u.eTag, contentLength: u.contentLength });
    // Worker A claims and stalls on a hanging model; worker B's delivery meanwhile must not call the model.
    fake.enqueue({ kind: 'hang' });
    // The budget leaves room for one 5 s attempt (MODEL_TIMEOUT_MS of the test app) and no second.
    const a = processBlobCreated(event, { ...pipelineDeps(app.services), owner: 'worker-a', budgetMs: 6000 }).catch((e: unknown) => e);
    await expect.poll(async () => (await app.services.store.get(id))?.status, { timeout: 5000 }).toBe('processing');
    // The claim is written before the request is sent: wait until A's request is at the model.
    await expect.poll(modelCalls, { timeout: 5000 }).toBe(1);
    const b = await processBlobCreated(event, { ...pipelineDeps(app.services), owner: 'worker-b' }).catch((e: unknown) => e);
    expect(b).toMatchObject({ kind: 'transient', code: 'in_flight' });
    expect(modelCalls()).toBe(1);
    // A gives up within its budget, releasing the claim; B's redelivery then takes it and succeeds.
    expect(await a).toMatchObject({ kind: 'transient' });
    const after = await processBlobCreated(event, { ...pipelineDeps(app.services), owner: 'worker-b' });
    expect(after.outcome).toBe('classified');
  });

  it('a stale claim (its worker died) is taken over', async () => {
    const u = await app.upload('pets/orphan.jpg', await jpeg());
    const id = documentId(app.services.images.containerName, 'pets/orphan.jpg');
    const first = await app.deliver('pets/orphan.jpg', u);
    if (!('document' in first)) throw new Error('expected a document');
    // Rewind it to a claim whose lease ran out, as a worker that died mid-call would leave it.
    await app.services.store.upsert({ ...first.document, status: 'processing', result: null, labels: [], lease: { owner: 'dead-worker', expiresAt: new Date(Date.now() - 1000).toISOString() }, attempts: 1 });
    const calls = modelCalls();
    const out = await app.deliver('pets/orphan.jpg', u);
    expect(out.outcome).toBe('classified');
    expect(await app.services.store.get(id)).toMatchObject({ status: 'classified', attempts: 2, lease: null, cached: { documentId: id } });
    // The dead worker's answer had reached the content cache, so the takeover pays nothing again.
    expect(modelCalls()).toBe(calls);
  });
});

describe('pay once per content', () => {
  it('identical bytes under another name reuse the stored answer with zero tokens', async () => {
    const bytes = await jpeg(300, 200, { colour: '#336699' });
    const first = await app.put('pets/original.jpg', bytes);
    const copy = await app.put('pets/copy-of-original.jpg', bytes);
    expect(modelCalls()).toBe(1);
    if (!('document' in first) || !('document' in copy)) throw new Error('expected documents');
    expect(copy.document).toMatchObject({ status: 'classified', labels: ['cat'], usage: { promptTokens: 0, completionTokens: 0, costUsd: 0, modelCalls: 0 }, cached: { documentId: first.document.id } });
    expect(first.document.cached).toBeNull();
    // Another profile is another question: it is asked.
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'rose' }) }));
    await app.put('flowers/same-bytes.jpg', bytes);
    expect(modelCalls()).toBe(2);
  });

  it('identical bytes uploaded concurrently under many names are still paid for once', async () => {
    const bytes = await jpeg(256, 256, { colour: '#aa3300' });
    fake.enqueue({ kind: 'slow', delayMs: 300 });
    const uploads = await Promise.all(Array.from({ length: 5 }, (_, i) => app.upload(`pets/twin-${i}.jpg`, bytes)));
    const out = await Promise.all(uploads.map((u, i) => deliverUntilDone(() => app.deliver(`pets/twin-${i}.jpg`, u))));
    expect(out.map((o) => o.outcome)).toEqual(Array(5).fill('classified'));
    expect(modelCalls()).toBe(1);
  });
});

describe('deletes', () => {
  it('BlobDeleted marks the document deleted and keeps its history; a delete while the blob exists is ignored', async () => {
    const u = await app.upload('pets/bye.jpg', await jpeg());
    await app.deliver('pets/bye.jpg', u, { sequencer: '00000000000000000000000000000c02' });
    const id = documentId(app.services.images.containerName, 'pets/bye.jpg');
    const older = await app.deliver('pets/bye.jpg', u, { eventType: 'Microsoft.Storage.BlobDeleted', api: 'DeleteBlob', sequencer: '00000000000000000000000000000c01' });
    expect(older.outcome).toBe('ignored');
    expect((await app.services.store.get(id))?.status).toBe('classified');
    await app.services.images.deleteBlob('pets/bye.jpg');
    const del = await app.deliver('pets/bye.jpg', u, { eventType: 'Microsoft.Storage.BlobDeleted', api: 'DeleteBlob', sequencer: '00000000000000000000000000000c03' });
    expect(del.outcome).toBe('deleted');
    expect(await app.services.store.get(id)).toMatchObject({ status: 'deleted', labels: ['cat'] });
  });
});

describe('time budget', () => {
  it('a hanging model is abandoned within the budget and handed back for redelivery, with nothing final written', async () => {
    await app.cleanup();
    // Room for one 800 ms attempt in the budget, not for the SDK's retry after it timed out.
    app = await startTestApp(fake, { EVENT_BUDGET_MS: '1200', CLAIM_LEASE_MS: '5000', MODEL_TIMEOUT_MS: '800', MODEL_MAX_RETRIES: '2' });
    fake.enqueue({ kind: 'hang' });
    const u = await app.upload('pets/slow.jpg', await jpeg());
    const t0 = performance.now();
    const err = await app.deliver('pets/slow.jpg', u).catch((e: unknown) => e);
    const took = performance.now() - t0;
    expect(err).toMatchObject({ kind: 'transient' });
    // Generous bound: the point is "gave up near its budget", not a performance figure.
    expect(took).toBeLessThan(10_000);
    const doc = await app.services.store.get(documentId(app.services.images.containerName, 'pets/slow.jpg'));
    expect(doc).toMatchObject({ status: 'processing', result: null });
    expect(doc?.lastError?.code).toMatch(/model_timeout|model_unavailable/);
    expect((await app.deliver('pets/slow.jpg', u)).outcome).toBe('classified');
  });
});
