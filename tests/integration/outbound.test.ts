/** Outbound CloudEvents: once per document version, signed, retried on a failing receiver, redelivery and the timer. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { OutboundCloudEvent } from '../../shared/outbound';
import { DEFAULT_WEBHOOK_TRIES, verifyWebhook } from '../../shared/outbound';
import { reconcile } from '../../shared/pipeline';
import { pipelineDeps } from '../../shared/runtime';
import type { ImageDocument } from '../../shared/store';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg, textAsJpg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';
import type { WebhookReceiver } from '../support/webhookReceiver';
import { startWebhookReceiver } from '../support/webhookReceiver';

const SECRET = `whsec_${Buffer.from('a test secret of thirty-two bytes').toString('base64')}`;
let fake: FakeOpenAI;
let hook: WebhookReceiver;
let app: TestApp;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  hook = await startWebhookReceiver();
  app = await startTestApp(fake, { OUTBOUND_WEBHOOKS: hook.url, OUTBOUND_WEBHOOK_SECRET: SECRET, OUTBOUND_WEBHOOK_RETRY_MS: '20' });
});
afterAll(async () => {
  await app.cleanup();
  await hook.close();
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  hook.requests.length = 0;
  fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
});

function events(): OutboundCloudEvent[] {
  return hook.accepted().map((r) => JSON.parse(r.body) as OutboundCloudEvent);
}

async function stored(id: string): Promise<ImageDocument> {
  const d = await app.services.store.get(id);
  if (d === undefined) throw new Error(`no document ${id}`);
  return d;
}

describe('outbound events', () => {
  it('publishes ImageClassified once, signed, after the document is final; a redelivery publishes nothing', async () => {
    const u = await app.upload('pets/out-1.jpg', await jpeg(60, 40));
    const first = await app.deliver('pets/out-1.jpg', u);
    if (!('document' in first)) throw new Error('expected a document');
    const doc = await stored(first.document.id);
    expect(doc.outbound).toMatchObject({ pending: false, version: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(events()).toHaveLength(1);
    const e = events()[0];
    expect(e).toMatchObject({ specversion: '1.0', type: 'blobsight.ImageClassified', id: `${doc.id}:${doc.outbound?.version ?? ''}`, subject: 'pets/out-1.jpg', data: { id: doc.id, status: 'classified', labels: ['dog'] } });
    // A receiver can check the Standard Webhooks signature with the shared secret; a tampered body fails it.
    const r = hook.accepted()[0];
    if (r === undefined) throw new Error('no request');
    const headers = { id: r.headers['webhook-id'] ?? '', timestamp: r.headers['webhook-timestamp'] ?? '', signature: r.headers['webhook-signature'] ?? '' };
    expect(headers.id).toBe(e?.id);
    expect(verifyWebhook(SECRET, headers, r.body)).toBe(true);
    expect(verifyWebhook(SECRET, headers, r.body.replace('dog', 'cat'))).toBe(false);
    expect(verifyWebhook('whsec_d3Jvbmc=', headers, r.body)).toBe(false);

    expect((await app.deliver('pets/out-1.jpg', u)).outcome).toBe('duplicate');
    expect((await app.deliver('pets/out-1.jpg', u)).outcome).toBe('duplicate');
    expect(events()).toHaveLength(1);
  });

  it('retries a receiver that fails the first times, and sends one accepted event', async () => {
    hook.failNext(2);
    const out = await app.put('pets/out-flaky.jpg', await jpeg(40, 60));
    expect(out.outcome).toBe('classified');
    expect(hook.requests.map((r) => r.status)).toEqual([503, 503, 204]);
    // Every try carries the same event id, so a receiver that did see a failed try can drop the repeat.
    expect(new Set(hook.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
  });

  it('keeps a publish that failed every try pending: the redelivery publishes it, exactly once', async () => {
    hook.failNext(DEFAULT_WEBHOOK_TRIES);
    const u = await app.upload('pets/out-down.jpg', await jpeg(50, 50));
    await expect(app.deliver('pets/out-down.jpg', u)).rejects.toMatchObject({ code: 'outbound_unavailable', kind: 'transient' });
    const id = (await app.services.store.list({ limit: 50 })).items.find((d) => d.blob.name === 'pets/out-down.jpg')?.id ?? '';
    // The document is final already; only its event is owed.
    expect(await stored(id)).toMatchObject({ status: 'classified', outbound: { pending: true, publishedAt: null } });
    expect(events()).toHaveLength(0);
    const calls = fake.requests.length;
    expect((await app.deliver('pets/out-down.jpg', u)).outcome).toBe('duplicate');
    expect(events()).toHaveLength(1);
    expect((await app.deliver('pets/out-down.jpg', u)).outcome).toBe('duplicate');
    expect(events()).toHaveLength(1);
    // Publishing again never asks the model again.
    expect(fake.requests.length).toBe(calls);
    expect((await stored(id)).outbound?.pending).toBe(false);
  });

  it('has the reconcile timer publish what a lost delivery left pending', async () => {
    hook.failNext(DEFAULT_WEBHOOK_TRIES);
    await expect(app.put('pets/out-lost.jpg', await jpeg(30, 50))).rejects.toMatchObject({ code: 'outbound_unavailable' });
    const outbox = app.services.outbox;
    if (outbox === undefined) throw new Error('outbox not configured');
    expect(await outbox.retryPending({ limit: 10, olderThan: new Date(Date.now() + 60_000) })).toEqual({ published: 1, failed: 0 });
    expect(events().map((e) => e.subject)).toEqual(['pets/out-lost.jpg']);
    expect(await outbox.retryPending({ limit: 10, olderThan: new Date(Date.now() + 60_000) })).toEqual({ published: 0, failed: 0 });
  });

  it('owes an ImageFailed for a version the reconcile timer finalises past the retry horizon, and the timer publishes it', async () => {
    fake.enqueue({ kind: 'server-error', status: 500 });
    const u = await app.upload('pets/out-hopeless.jpg', await jpeg(33, 44));
    await expect(app.deliver('pets/out-hopeless.jpg', u)).rejects.toMatchObject({ kind: 'transient' });
    const doc = (await app.services.store.list({ limit: 50 })).items.find((d) => d.blob.name === 'pets/out-hopeless.jpg');
    if (doc === undefined) throw new Error('no processing document');
    await app.services.store.upsert({ ...doc, firstAttemptAt: new Date(Date.now() - 48 * 3_600_000).toISOString() });
    const deadLetter = app.services.blobService.getContainerClient(`dl-${app.services.images.containerName}`.slice(0, 63));
    await deadLetter.createIfNotExists();
    try {
      const report = await reconcile(pipelineDeps(app.services), { deadLetter, staleAfterMs: 0, retryHorizonMs: 24 * 3_600_000, maxItems: 10, maxScan: 100 });
      expect(report.finalisedFailed).toBe(1);
    } finally {
      await deadLetter.deleteIfExists();
    }
    expect(await stored(doc.id)).toMatchObject({ status: 'failed', outbound: { pending: true } });
    expect(await app.services.outbox?.retryPending({ limit: 10, olderThan: new Date(Date.now() + 60_000) })).toEqual({ published: 1, failed: 0 });
    expect(events().map((e) => [e.subject, e.type])).toEqual([['pets/out-hopeless.jpg', 'blobsight.ImageFailed']]);
  });

  it('names the outcome in the event type: rejected and needs-review images', async () => {
    await app.put('pets/not-an-image.jpg', await textAsJpg());
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'cat' }), confidences: { label: 0.5 } }));
    await app.put('pets/unsure.jpg', await jpeg(70, 70));
    expect(events().map((e) => [e.subject, e.type])).toEqual([
      ['pets/not-an-image.jpg', 'blobsight.ImageRejected'],
      ['pets/unsure.jpg', 'blobsight.ImageNeedsReview'],
    ]);
    expect(events()[0]?.data).toMatchObject({ status: 'rejected', error: { code: expect.any(String) } });
  });
});
