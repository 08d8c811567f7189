/**
 * The vertical slice: bytes written to the images container (Azurite) + a BlobCreated event in the published schema
 * → one Cosmos DB document (cosmosdb-server), through the fake Azure OpenAI that checks requests like the real service.
 */
import { createHash } from 'node:crypto';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { isTransientError } from '../../shared/errors';
import { processBlobCreated } from '../../shared/pipeline';
import { pipelineDeps } from '../../shared/runtime';
import type { ImageDocument } from '../../shared/store';
import { documentId } from '../../shared/store';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg, pngBomb, textAsJpg, truncatedJpeg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { fakeCredential, startTestApp } from '../support/testApp';

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
  app = await startTestApp(fake);
});
afterEach(async () => {
  await app.cleanup();
});

function chatRequests(): number {
  return fake.requests.filter((r) => r.path.endsWith('/chat/completions')).length;
}

function doc(outcome: Awaited<ReturnType<TestApp['put']>>): ImageDocument {
  if (!('document' in outcome)) throw new Error(`expected a document, got ${outcome.outcome}: ${outcome.reason}`);
  return outcome.document;
}

describe('an uploaded image becomes one document', () => {
  it('classifies through the model and stores everything a user queries', async () => {
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'rose' }), confidences: { label: 0.93 } }));
    const bytes = await jpeg(1200, 800);
    const out = await app.put('flowers/garden/rose 1.jpg', bytes);
    expect(out.outcome).toBe('classified');
    const d = doc(out);
    expect(d).toMatchObject({
      id: documentId(app.services.images.containerName, 'flowers/garden/rose 1.jpg'),
      status: 'classified',
      profile: { name: 'flowers', version: '1' },
      result: { kind: 'single-label', label: 'rose' },
      labels: ['rose'],
      confidenceSource: 'logprobs',
      model: { provider: 'azure-openai', deployment: fake.deployment, apiVersion: '2024-10-21', reportedModel: 'gpt-4o-2024-11-20' },
      image: { width: 1200, height: 800, format: 'jpeg', sha256: createHash('sha256').update(bytes).digest('hex') },
      blob: { container: app.services.images.containerName, name: 'flowers/garden/rose 1.jpg', contentLength: bytes.length, contentType: 'image/jpeg' },
      error: null,
    });
    expect(d.confidence).toBeCloseTo(0.93, 2);
    expect(d.usage.promptTokens).toBeGreaterThan(85);
    expect(d.usage.completionTokens).toBeGreaterThan(0);
    expect(d.usage.costUsd).toBeGreaterThan(0);
    expect(d.usage.modelCalls).toBe(1);
    for (const k of ['downloadMs', 'preprocessMs', 'modelMs', 'totalMs'] as const) expect(d.timings[k]).toBeGreaterThanOrEqual(0);
    // The stored document is what a reader gets back.
    expect(await app.services.store.get(d.id)).toMatchObject({ status: 'classified', labels: ['rose'] });
    // flowers uses low detail: the model was sent one ≤512-px view.
    const sent = fake.requests.at(-1)?.body as { messages: Array<{ content: unknown }> };
    const image = JSON.stringify(sent.messages).match(/"detail":"(\w+)"/);
    expect(image?.[1]).toBe('low');
  });

  it('sends a low-confidence answer to review', async () => {
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'cat' }), confidences: { label: 0.55 } }));
    const d = doc(await app.put('pets/maybe-cat.jpg', await jpeg(300, 300)));
    expect(d.status).toBe('needs_review');
    expect(d.confidence).toBeCloseTo(0.55, 2);
    expect(d.labels).toEqual(['cat']);
  });

  it('stores attributes (driving-scene) and multi-label (product-tags) results with per-decision confidence', async () => {
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { weather: 'rainy', timeofday: 'night', scene: 'highway' }), confidences: { weather: 0.9, timeofday: 0.99, scene: 0.8 } }));
    const scene = doc(await app.put('driving-scene/frame.jpg', await jpeg(1280, 720)));
    expect(scene.result).toMatchObject({ kind: 'attributes', attributes: { weather: { label: 'rainy' }, timeofday: { label: 'night' }, scene: { label: 'highway' } } });
    expect(scene.labels.sort()).toEqual(['highway', 'night', 'rainy']);
    expect(scene.confidence).toBeCloseTo(0.8, 2);

    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { 'labels.footwear': true, 'labels.white background': true }) }));
    const tags = doc(await app.put('product-tags/shoe.png', await jpeg(500, 500)));
    expect(tags.result?.kind).toBe('multi-label');
    expect(tags.labels.sort()).toEqual(['footwear', 'white background']);
  });

  it('takes the profile from blob metadata when the path names none, and rejects an unknown one without calling the model', async () => {
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
    expect(doc(await app.put('uploads/2026/dog.jpg', await jpeg(), { metadata: { profile: 'pets' } }))).toMatchObject({ status: 'classified', profile: { name: 'pets' }, labels: ['dog'] });
    const before = chatRequests();
    const d = doc(await app.put('uploads/x.jpg', await jpeg(), { metadata: { profile: 'no-such-profile' } }));
    expect(d).toMatchObject({ status: 'rejected', error: { code: 'unknown_profile' } });
    expect(d.error?.message).toMatch(/Known profiles: .*flowers/);
    expect(chatRequests()).toBe(before);
  });
});

describe('at-least-once delivery', () => {
  it('a duplicate delivery of the same blob version costs nothing', async () => {
    const upload = await app.upload('pets/dup.jpg', await jpeg());
    const first = await app.deliver('pets/dup.jpg', upload);
    expect(first.outcome).toBe('classified');
    const calls = chatRequests();
    const again = await app.deliver('pets/dup.jpg', upload);
    expect(again.outcome).toBe('duplicate');
    expect(chatRequests()).toBe(calls);
    const { items } = await app.services.store.list({ limit: 10 });
    expect(items).toHaveLength(1);
  });

  it('an overwrite is classified again into the same document; the old version’s late event is skipped', async () => {
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'cat' }) }));
    // Event Grid orders writes to one blob by `sequencer`; a late event keeps the sequencer of its own write.
    const v1 = await app.upload('pets/same-name.jpg', await jpeg(100, 100, { colour: '#112233' }));
    await app.deliver('pets/same-name.jpg', v1, { sequencer: '0000000000000000000000000000a001' });
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
    const v2 = await app.upload('pets/same-name.jpg', await jpeg(120, 100, { colour: '#445566' }));
    const out = doc(await app.deliver('pets/same-name.jpg', v2, { sequencer: '0000000000000000000000000000a002' }));
    expect(out).toMatchObject({ labels: ['dog'], blob: { eTag: v2.eTag }, image: { width: 120 } });
    const late = await app.deliver('pets/same-name.jpg', v1, { sequencer: '0000000000000000000000000000a001' });
    expect(late.outcome).toBe('superseded');
    expect(await app.services.store.get(out.id)).toMatchObject({ labels: ['dog'], blob: { eTag: v2.eTag } });
    const { items } = await app.services.store.list({ limit: 10 });
    expect(items).toHaveLength(1);
  });
});

describe('bad input ends rejected with a reason and no model call', () => {
  it.each([
    ['zero bytes', () => Promise.resolve(Buffer.alloc(0)), 'empty_blob'],
    ['text named .jpg', textAsJpg, 'unsupported_format'],
    ['a truncated JPEG', truncatedJpeg, 'corrupt_image'],
    ['a 100000x100000 PNG bomb', () => pngBomb(), 'too_many_pixels'],
  ])('%s → %s', async (_name, make, code) => {
    const d = doc(await app.put(`flowers/bad-${code}.jpg`, await make()));
    expect(d).toMatchObject({ status: 'rejected', error: { code }, usage: { promptTokens: 0, modelCalls: 0 } });
    expect(d.error?.message.length).toBeGreaterThan(10);
    expect(chatRequests()).toBe(0);
  });

  it('over the byte limit → too_large, refused before download', async () => {
    await app.cleanup();
    app = await startTestApp(fake, { MAX_IMAGE_BYTES: '5000' });
    const d = doc(await app.put('flowers/big.jpg', await jpeg(800, 800, { noise: true })));
    expect(d).toMatchObject({ status: 'rejected', error: { code: 'too_large', details: { maxBytes: 5000 } } });
    expect(d.timings.preprocessMs).toBeNull();
    expect(chatRequests()).toBe(0);
  });

  it('over the pixel limit → too_many_pixels', async () => {
    await app.cleanup();
    app = await startTestApp(fake, { MAX_IMAGE_PIXELS: '10000' });
    const d = doc(await app.put('flowers/wide.jpg', await jpeg(200, 100)));
    expect(d).toMatchObject({ status: 'rejected', error: { code: 'too_many_pixels' } });
  });

  it('a blob deleted before processing gets no document (nothing to describe), and no model call', async () => {
    const u = await app.upload('flowers/gone.jpg', await jpeg());
    await app.services.images.deleteBlob('flowers/gone.jpg');
    expect(await app.deliver('flowers/gone.jpg', u)).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/does not exist/) });
    expect((await app.services.store.list({ limit: 10 })).items).toHaveLength(0);
    expect(chatRequests()).toBe(0);
  });

  it('events for another container, of another type, or for an incomplete write, and malformed events, are ignored', async () => {
    const u = await app.upload('flowers/a.jpg', await jpeg());
    expect(await app.deliver('flowers/a.jpg', u, { container: 'other' })).toMatchObject({ outcome: 'ignored' });
    expect(await app.deliver('flowers/a.jpg', u, { eventType: 'Microsoft.Storage.BlobTierChanged' })).toMatchObject({ outcome: 'ignored' });
    expect(await app.deliver('flowers/a.jpg', u, { api: 'PutBlock' })).toMatchObject({ outcome: 'ignored' });
    expect(await processBlobCreated({ hello: 'world' }, pipelineDeps(app.services))).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/not an Event Grid blob event/) });
    expect((await app.services.store.list({ limit: 10 })).items).toHaveLength(0);
    expect(chatRequests()).toBe(0);
  });
});

describe('model faults', () => {
  it('an answer outside the label set is asked again once, then the image ends failed with the tokens spent', async () => {
    fake.enqueue({ kind: 'outside-enum', value: 'tulip' }, { kind: 'outside-enum', value: 'tulip' });
    const d = doc(await app.put('flowers/odd.jpg', await jpeg()));
    expect(d).toMatchObject({ status: 'failed', error: { code: 'model_invalid_output' }, usage: { modelCalls: 2 } });
    expect(d.usage.promptTokens).toBeGreaterThan(0);
    expect(chatRequests()).toBe(2);
  });

  it('one answer outside the label set followed by a good one classifies', async () => {
    fake.enqueue({ kind: 'outside-enum', value: 'tulip' });
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'daisy' }) }));
    const d = doc(await app.put('flowers/odd2.jpg', await jpeg()));
    expect(d).toMatchObject({ status: 'classified', labels: ['daisy'], usage: { modelCalls: 2 } });
  });

  it('throttling throws for redelivery and writes no final state; the redelivery then succeeds', async () => {
    fake.enqueue({ kind: 'throttle', retryAfterMs: 1500 });
    const u = await app.upload('flowers/busy.jpg', await jpeg());
    const err = await app.deliver('flowers/busy.jpg', u).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTransientError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'model_throttled', retryAfterMs: 1500 });
    // Not final: the claim is released at once (lease expired) with the fault kept for the reconcile sweep.
    const pending = await app.services.store.get(documentId(app.services.images.containerName, 'flowers/busy.jpg'));
    expect(pending).toMatchObject({ status: 'processing', lastError: { code: 'model_throttled' }, result: null });
    expect(Date.parse(pending?.lease?.expiresAt ?? '')).toBeLessThanOrEqual(Date.now());
    expect((await app.deliver('flowers/busy.jpg', u)).outcome).toBe('classified');
  });

  it('a 503 is transient too', async () => {
    fake.enqueue({ kind: 'server-error', status: 503 });
    const u = await app.upload('flowers/down.jpg', await jpeg());
    await expect(app.deliver('flowers/down.jpg', u)).rejects.toMatchObject({ kind: 'transient' });
  });

  it('content filtered → rejected with the category, not retried', async () => {
    fake.enqueue({ kind: 'content-filter-prompt', category: 'violence' });
    const d = doc(await app.put('flowers/filtered.jpg', await jpeg()));
    expect(d).toMatchObject({ status: 'rejected', error: { code: 'content_filtered' } });
    expect(JSON.stringify(d.error?.details)).toContain('violence');
    expect(chatRequests()).toBe(1);
  });
});

describe('keyless', () => {
  it('authenticates to Azure OpenAI with a bearer token from the credential and sends no api-key', async () => {
    await app.cleanup();
    const credential = fakeCredential(fake.bearerToken);
    app = await startTestApp(fake, { AZURE_OPENAI_API_KEY: '' }, { credential });
    expect(doc(await app.put('pets/keyless.jpg', await jpeg())).status).toBe('classified');
    const req = fake.requests.at(-1);
    expect(req?.headers['authorization']).toBe(`Bearer ${fake.bearerToken}`);
    expect(req?.headers['api-key']).toBeUndefined();
    expect(credential.calls.flat()).toContain('https://cognitiveservices.azure.com/.default');
  });
});
