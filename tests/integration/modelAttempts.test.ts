/**
 * Pay once, even when the model is slow (issue 9 §2): every model attempt is gated by the event budget, counted on
 * the document before it is sent and capped; duplicates settle on reads before they download; reconcile's eTag-less events
 * never take over a live claim; the content cache does not reuse an answer of another model version.
 */
import type { BlobClient, ContainerClient } from '@azure/storage-blob';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { Env } from '../../shared/config';
import { isTransientError } from '../../shared/errors';
import type { BlobOutcome, PipelineDeps } from '../../shared/pipeline';
import { processBlobCreated } from '../../shared/pipeline';
import type { ServiceOverrides } from '../../shared/runtime';
import { pipelineDeps } from '../../shared/runtime';
import { documentId } from '../../shared/store';
import { blobCreatedEvent } from '../support/blobEvents';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

let fake: FakeOpenAI;
let app: TestApp | undefined;

beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  fake.setFaultPlan(undefined);
  fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'cat' }) }));
});
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

async function start(env: Env, overrides: ServiceOverrides = {}): Promise<TestApp> {
  app = await startTestApp(fake, env, overrides);
  return app;
}

/** Every chat request the fake received, answered or not (a hung or abandoned request is billed too). */
const received = (): number => fake.requests.filter((r) => r.path.endsWith('/chat/completions')).length;

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

describe('no attempt starts that cannot finish inside the event budget', () => {
  it('after a timed-out attempt, the SDK retry is not started when the budget has no room for it (as 20 s in 25 s)', async () => {
    // Room for the first 1 s attempt after the HEAD, claim and download; not for a retry after its timeout and backoff.
    const a = await start({ MODEL_TIMEOUT_MS: '1000', EVENT_BUDGET_MS: '1900', CLAIM_LEASE_MS: '5000', MODEL_MAX_RETRIES: '2' });
    fake.setFaultPlan(() => ({ kind: 'hang' }));
    const u = await a.upload('pets/slow.jpg', await jpeg());
    const err = await a.deliver('pets/slow.jpg', u).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'transient', code: 'model_timeout' });
    expect(received()).toBe(1);
    const doc = await a.services.store.get(documentId(a.services.images.containerName, 'pets/slow.jpg'));
    expect(doc).toMatchObject({ status: 'processing', modelAttempts: 1, lastError: { code: 'model_timeout' } });
  });

  it('the attempt is counted on the document before the request is sent (a crash mid-call still counts)', async () => {
    const a = await start({ MODEL_TIMEOUT_MS: '2000', EVENT_BUDGET_MS: '3500', CLAIM_LEASE_MS: '6000', MODEL_MAX_RETRIES: '0' });
    fake.enqueue({ kind: 'hang' });
    const u = await a.upload('pets/counted.jpg', await jpeg());
    const id = documentId(a.services.images.containerName, 'pets/counted.jpg');
    const running = a.deliver('pets/counted.jpg', u).catch((e: unknown) => e);
    await expect.poll(() => fake.requests.length, { timeout: 5000 }).toBe(1);
    // The request is in the fake, unanswered: the document already says it was paid for.
    expect(fake.requests[0]?.status).toBe(0);
    expect(await a.services.store.get(id)).toMatchObject({ status: 'processing', modelAttempts: 1 });
    await running;
  });

  it('a 429 is not billed: a throttled then answered image counts one paid attempt', async () => {
    const a = await start({ MODEL_MAX_RETRIES: '2' });
    fake.enqueue({ kind: 'throttle', retryAfterMs: 50 });
    const out = await a.put('pets/throttled.jpg', await jpeg());
    expect(received()).toBe(2);
    expect(out).toMatchObject({ outcome: 'classified', document: { modelAttempts: 1 } });
  });
});

describe('paid attempts per image version are capped (MAX_MODEL_ATTEMPTS)', () => {
  it('a model slower than the timeout on every call ends the image failed after exactly the cap, across redeliveries', async () => {
    const a = await start({ MODEL_TIMEOUT_MS: '300', EVENT_BUDGET_MS: '1000', CLAIM_LEASE_MS: '3000', MODEL_MAX_RETRIES: '2', MAX_MODEL_ATTEMPTS: '3' });
    fake.setFaultPlan(() => ({ kind: 'slow', delayMs: 2000 }));
    const u = await a.upload('pets/never.jpg', await jpeg());
    const out = await deliverUntilDone(() => a.deliver('pets/never.jpg', u));
    expect(out).toMatchObject({ outcome: 'failed', document: { status: 'failed', modelAttempts: 3, error: { code: 'model_timeout' } } });
    expect(received()).toBe(3);
    // Redeliveries after the end cost nothing.
    expect((await a.deliver('pets/never.jpg', u)).outcome).toBe('duplicate');
    expect(received()).toBe(3);
  });

  it('a new version starts with a fresh count', async () => {
    const a = await start({ MODEL_TIMEOUT_MS: '300', EVENT_BUDGET_MS: '1000', CLAIM_LEASE_MS: '3000', MODEL_MAX_RETRIES: '0', MAX_MODEL_ATTEMPTS: '1' });
    fake.enqueue({ kind: 'hang' });
    const v1 = await a.upload('pets/again.jpg', await jpeg(100, 100, { colour: '#123456' }));
    expect(await deliverUntilDone(() => a.deliver('pets/again.jpg', v1))).toMatchObject({ outcome: 'failed', document: { modelAttempts: 1 } });
    const v2 = await a.upload('pets/again.jpg', await jpeg(110, 100, { colour: '#654321' }));
    expect(await a.deliver('pets/again.jpg', v2)).toMatchObject({ outcome: 'classified', document: { modelAttempts: 1, blob: { eTag: v2.eTag } } });
  });
});

/** The images container, counting the downloads (GET of the bytes) made through it. */
function countingDownloads(images: ContainerClient): { images: ContainerClient; downloads: () => number } {
  let downloads = 0;
  const wrapBlob = (b: BlobClient): BlobClient =>
    new Proxy(b, {
      get(target, prop, receiver) {
        if (prop === 'download') return (...args: Parameters<BlobClient['download']>) => (downloads++, target.download(...args));
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  const proxy = new Proxy(images, {
    get(target, prop, receiver) {
      if (prop === 'getBlobClient') return (name: string) => wrapBlob(target.getBlobClient(name));
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { images: proxy, downloads: () => downloads };
}

describe('duplicates claim before they download', () => {
  it('eight concurrent duplicate deliveries call the model once; only the first round downloads (beside its claim), no redelivery does', async () => {
    const a = await start({});
    const u = await a.upload('pets/burst.jpg', await jpeg(400, 300));
    const { images, downloads } = countingDownloads(a.services.images);
    const deps: PipelineDeps = { ...pipelineDeps(a.services), images };
    const event = blobCreatedEvent({ container: a.services.images.containerName, name: 'pets/burst.jpg', eTag: u.eTag, contentLength: u.contentLength });
    fake.enqueue({ kind: 'slow', delayMs: 400 });
    const results = await Promise.all(Array.from({ length: 8 }, () => deliverUntilDone(() => processBlobCreated(event, deps))));
    expect(results.filter((r) => r.outcome === 'classified')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(7);
    // Each first-round delivery downloads alongside its claim write and the seven that lose the claim abort theirs;
    // their redeliveries find the final document and settle on the reads alone.
    expect(downloads()).toBeLessThanOrEqual(8);
    expect(received()).toBe(1);
  });
});

describe('events without an eTag (reconcile) never take over a live claim', () => {
  it('while a worker holds a live claim on the old version, an eTag-less event is handed back; the new version’s own event takes over', async () => {
    const a = await start({ MODEL_TIMEOUT_MS: '3000', EVENT_BUDGET_MS: '4000', CLAIM_LEASE_MS: '8000', MODEL_MAX_RETRIES: '0' });
    const v1 = await a.upload('pets/live.jpg', await jpeg(100, 100, { colour: '#777777' }));
    const id = documentId(a.services.images.containerName, 'pets/live.jpg');
    fake.enqueue({ kind: 'hang' });
    const holder = a.deliver('pets/live.jpg', v1).catch((e: unknown) => e);
    await expect.poll(async () => (await a.services.store.get(id))?.status, { timeout: 5000 }).toBe('processing');
    await expect.poll(() => fake.requests.length, { timeout: 5000 }).toBe(1);
    const v2 = await a.upload('pets/live.jpg', await jpeg(140, 100, { colour: '#888888' }));
    const e = blobCreatedEvent({ container: a.services.images.containerName, name: 'pets/live.jpg', eTag: 'unused', contentLength: 0 });
    const data = { ...(e['data'] as Record<string, unknown>) };
    delete data['eTag'];
    const fromReconcile = await processBlobCreated({ ...e, data }, pipelineDeps(a.services)).catch((err: unknown) => err);
    expect(fromReconcile).toMatchObject({ kind: 'transient', code: 'in_flight' });
    expect(received()).toBe(1);
    expect(await a.deliver('pets/live.jpg', v2)).toMatchObject({ outcome: 'classified', document: { blob: { eTag: v2.eTag }, image: { width: 140 } } });
    // The old holder's final write is refused: the document keeps describing v2.
    await holder;
    expect(await a.services.store.get(id)).toMatchObject({ status: 'classified', blob: { eTag: v2.eTag } });
  });
});

describe('the content cache is keyed by the model version the service reports', () => {
  it('after the service reports a new model version, an answer of the old version is not reused', async () => {
    let reportAs: string | null = null;
    const rewriting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (reportAs === null || res.status !== 200) return res;
      const body = (await res.json()) as Record<string, unknown>;
      const headers = new Headers(res.headers);
      headers.delete('content-length');
      return new Response(JSON.stringify({ ...body, model: reportAs }), { status: res.status, headers });
    };
    const a = await start({}, { fetch: rewriting });
    const bytes = await jpeg(300, 200, { colour: '#224466' });
    const first = await a.put('pets/v-a.jpg', bytes);
    expect(first).toMatchObject({ outcome: 'classified', document: { model: { reportedModel: 'gpt-4o-2024-11-20' } } });
    expect(await a.put('pets/v-b.jpg', bytes)).toMatchObject({ document: { cached: { documentId: documentId(a.services.images.containerName, 'pets/v-a.jpg') } } });
    expect(received()).toBe(1);
    // The deployment is upgraded: the service now reports another version.
    reportAs = 'gpt-4o-2099-01-01';
    await a.put('pets/other.jpg', await jpeg(90, 90, { colour: '#999999' }));
    expect(received()).toBe(2);
    const again = await a.put('pets/v-c.jpg', bytes);
    expect(again).toMatchObject({ outcome: 'classified', document: { cached: null, model: { reportedModel: 'gpt-4o-2099-01-01' } } });
    expect(received()).toBe(3);
    // The entry now holds the new version's answer, which is reused.
    expect(await a.put('pets/v-d.jpg', bytes)).toMatchObject({ document: { cached: { documentId: documentId(a.services.images.containerName, 'pets/v-c.jpg') } } });
    expect(received()).toBe(3);
  });
});
