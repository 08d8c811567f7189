/** Model misbehaviour and Cosmos DB throttling / outages, end to end: retried, handed back, or finalised as listed. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';

import { documentId } from '../../shared/store';
import type { FakeOpenAI, Fault } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import type { FaultProxy } from '../support/faultProxy';
import { startFaultProxy } from '../support/faultProxy';
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
  fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
});
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

const chatCalls = (): number => fake.requests.filter((r) => r.path.endsWith('/chat/completions')).length;

describe('model misbehaviour', () => {
  it.each<[string, Fault[], string, string | null, number]>([
    ['cut off at max_tokens twice', [{ kind: 'length' }, { kind: 'length' }], 'failed', 'model_invalid_output', 2],
    ['cut off once, then fine', [{ kind: 'length' }], 'classified', null, 2],
    ['malformed JSON twice', [{ kind: 'malformed-json' }, { kind: 'malformed-json' }], 'failed', 'model_invalid_output', 2],
    ['empty choices twice', [{ kind: 'empty-choices' }, { kind: 'empty-choices' }], 'failed', 'model_invalid_output', 2],
    ['finish_reason content_filter', [{ kind: 'content-filter-finish', category: 'sexual' }], 'rejected', 'content_filtered', 1],
    ['no logprobs (self-reported confidence)', [{ kind: 'no-logprobs' }], 'classified', null, 1],
  ])('%s → %s', async (_n, faults, status, code, calls) => {
    app = await startTestApp(fake);
    fake.enqueue(...faults);
    const out = await app.put('pets/misbehaving.jpg', await jpeg());
    if (!('document' in out)) throw new Error(out.outcome);
    expect(out.document.status).toBe(status);
    expect(out.document.error?.code ?? null).toBe(code);
    expect(chatCalls()).toBe(calls);
    expect(out.document.usage.modelCalls).toBe(calls);
  });

  it('429 with retry-after (seconds) is handed back with the wait the service asked for', async () => {
    app = await startTestApp(fake);
    fake.enqueue({ kind: 'throttle', retryAfterSeconds: 4 });
    const u = await app.upload('pets/throttled.jpg', await jpeg());
    await expect(app.deliver('pets/throttled.jpg', u)).rejects.toMatchObject({ kind: 'transient', code: 'model_throttled', retryAfterMs: 4000 });
  });

  it('the SDK itself retries a short 429 (retry-after-ms) and the image is classified with one delivery', async () => {
    app = await startTestApp(fake, { MODEL_MAX_RETRIES: '2' });
    fake.enqueue({ kind: 'throttle', retryAfterMs: 20 }, { kind: 'server-error', status: 503 });
    const out = await app.put('pets/sdk-retry.jpg', await jpeg());
    expect(out.outcome).toBe('classified');
    expect(chatCalls()).toBe(3);
  });
});

describe('Cosmos DB throttling and outages', () => {
  let proxy: FaultProxy;
  beforeEach(async () => {
    proxy = await startFaultProxy(inject('cosmosEndpoint'));
  });
  afterEach(async () => {
    await proxy.close();
  });
  const docsRequests = (req: { url?: string | undefined; method?: string | undefined }): boolean => /\/docs/.test(req.url ?? '');

  it.skipIf(!inject('cosmosEndpoint').startsWith('http:'))('429s are retried by the SDK (honouring x-ms-retry-after-ms) and the image is stored', async () => {
    app = await startTestApp(fake, { COSMOS_ENDPOINT: proxy.url });
    const throttled = { status: 429, headers: { 'x-ms-retry-after-ms': '20', 'x-ms-substatus': '3200' }, body: { code: 'TooManyRequests', message: 'Request rate is large' } };
    proxy.enqueue(docsRequests, throttled, throttled, throttled);
    const out = await app.put('pets/cosmos-429.jpg', await jpeg());
    expect(out.outcome).toBe('classified');
    expect(proxy.injected).toBe(3);
  });

  it.skipIf(!inject('cosmosEndpoint').startsWith('http:'))('a Cosmos outage is handed back for redelivery and nothing is lost', async () => {
    app = await startTestApp(fake, { COSMOS_ENDPOINT: proxy.url });
    const u = await app.upload('pets/cosmos-down.jpg', await jpeg());
    proxy.always(docsRequests, { status: 503, body: { code: 'ServiceUnavailable', message: 'down' } });
    await expect(app.deliver('pets/cosmos-down.jpg', u)).rejects.toMatchObject({ kind: 'transient', code: 'store_unavailable' });
    proxy.always(docsRequests, undefined);
    expect((await app.deliver('pets/cosmos-down.jpg', u)).outcome).toBe('classified');
    expect((await app.services.store.get(documentId(app.services.images.containerName, 'pets/cosmos-down.jpg')))?.status).toBe('classified');
  });
});
