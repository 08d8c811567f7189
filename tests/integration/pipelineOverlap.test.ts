/**
 * The event's non-model work runs alongside what it does not depend on instead of queueing behind it (issue 12: the
 * pipeline's overhead is what a user waits for beyond the model). Asserted on the order the stages start and end in
 * (the pipeline's stage recorder) and on what the fake model received, never on wall-clock time.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { BlobOutcome } from '../../shared/pipeline';
import { processBlobCreated } from '../../shared/pipeline';
import type { StageRecorder } from '../../shared/pipeline/stageRecorder';
import { pipelineDeps } from '../../shared/runtime';
import { blobCreatedEvent } from '../support/blobEvents';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

let fake: FakeOpenAI;
let app: TestApp;
let events: string[];

beforeAll(async () => {
  fake = await startFakeOpenAI();
  app = await startTestApp(fake);
});
afterAll(async () => {
  await app.cleanup();
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  events = [];
  // The fake logs into the same sequence when it receives the request, so the fence before paying is checkable too.
  fake.setAnswer(({ schema }) => {
    events.push('model request');
    return { answer: answerFromSchema(schema, { label: 'dog' }) };
  });
});

const recorder: StageRecorder = {
  start(stage) {
    events.push(`start ${stage}`);
    return () => events.push(`end ${stage}`);
  },
};

async function put(name: string, bytes: Buffer): Promise<Extract<BlobOutcome, { document: unknown }>> {
  const u = await app.upload(name, bytes);
  const event = blobCreatedEvent({ container: app.services.images.containerName, name, eTag: u.eTag, contentLength: u.contentLength, accountUrl: app.services.blobService.url.replace(/\/$/, '') });
  const out = await processBlobCreated(event, { ...pipelineDeps(app.services), stages: recorder });
  if (!('document' in out)) throw new Error(`expected a document, got ${out.outcome}`);
  return out;
}

function at(what: string): number {
  const i = events.indexOf(what);
  expect(i, `"${what}" in: ${events.join(', ')}`).toBeGreaterThanOrEqual(0);
  return i;
}

describe('what runs alongside what in one event', () => {
  it('downloads while the claim is written, marks the paid attempt while preprocessing, and stores the cache entry beside the final write', async () => {
    const out = await put('pets/overlap-a.jpg', await jpeg(64, 48, { colour: '#a03020' }));
    expect(out.document.status).toBe('classified');
    expect(out.document.modelAttempts).toBe(1);
    // The bytes are not queued behind the claim write (nor the claim behind them).
    expect(at('start blob.download')).toBeLessThan(at('end cosmos.claim'));
    expect(at('start cosmos.claim')).toBeLessThan(at('end blob.download'));
    // The paid attempt is recorded while preprocessing runs, and is durable before the model sees the request.
    expect(at('start cosmos.attempt')).toBeLessThan(at('end preprocess'));
    expect(at('end cosmos.attempt')).toBeLessThan(at('model request'));
    // The content cache entry and the final document are written together.
    expect(at('start cosmos.finish')).toBeLessThan(at('end cache.store'));
    expect(at('start cache.store')).toBeLessThan(at('end cosmos.finish'));
    // The result is counted only once it is durable.
    expect(at('end cosmos.finish')).toBeLessThan(at('start stats.count'));
  });

  it('a cache hit keeps the early attempt mark off the record: zero paid attempts, zero model calls', async () => {
    const bytes = await jpeg(64, 48, { colour: '#20a030' });
    await put('pets/overlap-first.jpg', bytes);
    events = [];
    const calls = fake.requests.length;
    const out = await put('pets/overlap-same-bytes.jpg', bytes);
    expect(out.document.status).toBe('classified');
    expect(out.document.cached).not.toBeNull();
    expect(fake.requests.length).toBe(calls);
    expect(out.document.modelAttempts).toBe(0);
    expect(out.document.usage.modelCalls).toBe(0);
  });

  it('a duplicate delivery settles on the reads alone: no download, no claim', async () => {
    const name = 'pets/overlap-dup.jpg';
    const u = await app.upload(name, await jpeg(64, 48, { colour: '#3020a0' }));
    const event = blobCreatedEvent({ container: app.services.images.containerName, name, eTag: u.eTag, contentLength: u.contentLength, accountUrl: app.services.blobService.url.replace(/\/$/, '') });
    await processBlobCreated(event, pipelineDeps(app.services));
    const again = await processBlobCreated(event, { ...pipelineDeps(app.services), stages: recorder });
    expect(again.outcome).toBe('duplicate');
    expect(events).toEqual(expect.arrayContaining(['start cosmos.read', 'start blob.properties', 'start stats.count']));
    expect(events.filter((e) => /^start (blob\.download|cosmos\.claim|cache\.|cosmos\.attempt|preprocess|model\.)/.test(e))).toEqual([]);
  });
});
