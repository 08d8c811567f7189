/** One trace per delivered image, with the pipeline's steps as child spans, and the metrics the alerts query. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { IMAGE_SPAN, METRIC } from '../../shared/telemetry';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import type { InMemoryTelemetry } from '../support/inMemoryTelemetry';
import { startInMemoryTelemetry } from '../support/inMemoryTelemetry';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

let telemetry: InMemoryTelemetry;
let fake: FakeOpenAI;
let app: TestApp;

beforeAll(async () => {
  telemetry = startInMemoryTelemetry();
  fake = await startFakeOpenAI();
  app = await startTestApp(fake);
});
afterAll(async () => {
  await app.cleanup();
  await fake.close();
  await telemetry.shutdown();
});
beforeEach(() => {
  fake.reset();
  telemetry.reset();
});

describe('telemetry', () => {
  it('gives each image one trace from the delivery through download, preprocess, the model call and the Cosmos writes', async () => {
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
    const a = await app.put('pets/trace-a.jpg', await jpeg(64, 48));
    const b = await app.put('pets/trace-b.jpg', await jpeg(48, 64));
    if (!('document' in a) || !('document' in b)) throw new Error('expected documents');

    const spans = telemetry.spans();
    const roots = spans.filter((s) => s.name === IMAGE_SPAN);
    expect(roots).toHaveLength(2);
    const traceIds = new Set(roots.map((r) => r.spanContext().traceId));
    expect(traceIds.size).toBe(2);
    for (const [root, doc] of [[roots[0], a.document] as const, [roots[1], b.document] as const]) {
      if (root === undefined) throw new Error('missing root');
      expect(root.attributes).toMatchObject({
        'blobsight.image.id': doc.id,
        'blobsight.profile': 'pets',
        'blobsight.outcome': 'classified',
        'blobsight.tokens.prompt': doc.usage.promptTokens,
        'blobsight.tokens.completion': doc.usage.completionTokens,
        'blobsight.cost_usd': doc.usage.costUsd,
      });
      expect(doc.usage.promptTokens).toBeGreaterThan(0);
      const children = spans.filter((s) => s.spanContext().traceId === root.spanContext().traceId && s !== root);
      expect(children.map((s) => s.name).sort()).toEqual(['blob.download', 'cosmos.claim', 'cosmos.finish', 'model.classify', 'preprocess']);
      // Every child hangs under the image span of its own trace.
      for (const c of children) expect(c.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
      expect(children.find((c) => c.name === 'model.classify')?.attributes['gen_ai.usage.input_tokens']).toBe(doc.usage.promptTokens);
    }
  });

  it('counts images by outcome, tokens, cost, model latency and redeliveries, once per version', async () => {
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'cat' }) }));
    const before = await telemetry.metric(METRIC.images, { outcome: 'classified', profile: 'pets' });
    const u = await app.upload('pets/metric.jpg', await jpeg(50, 50));
    const first = await app.deliver('pets/metric.jpg', u);
    const again = await app.deliver('pets/metric.jpg', u);
    expect(again.outcome).toBe('duplicate');
    if (!('document' in first)) throw new Error('expected a document');
    expect((await telemetry.metric(METRIC.images, { outcome: 'classified', profile: 'pets' })) - before).toBe(1);
    expect(await telemetry.metric(METRIC.tokens, { kind: 'prompt', profile: 'pets' })).toBeGreaterThanOrEqual(first.document.usage.promptTokens);
    expect(await telemetry.metric(METRIC.costUsd, { profile: 'pets' })).toBeGreaterThan(0);
    expect(await telemetry.metric(METRIC.modelLatencyMs, { profile: 'pets' })).toBeGreaterThanOrEqual(1);
    expect(await telemetry.metric(METRIC.redeliveries, { kind: 'duplicate' })).toBe(1);
    // The duplicate is its own short trace: a root with outcome duplicate and no model call.
    const dup = telemetry.spans().filter((s) => s.name === IMAGE_SPAN && s.attributes['blobsight.outcome'] === 'duplicate');
    expect(dup).toHaveLength(1);
    expect(telemetry.spans().filter((s) => s.name === 'model.classify')).toHaveLength(1);
  });

  it('counts a 429 that hands the event back', async () => {
    fake.enqueue({ kind: 'throttle' });
    const u = await app.upload('pets/throttled.jpg', await jpeg(40, 40));
    await expect(app.deliver('pets/throttled.jpg', u)).rejects.toMatchObject({ code: 'model_throttled' });
    expect(await telemetry.metric(METRIC.modelThrottled)).toBe(1);
    const root = telemetry.spans().find((s) => s.name === IMAGE_SPAN);
    expect(root?.attributes).toMatchObject({ 'blobsight.outcome': 'redeliver', 'blobsight.error.code': 'model_throttled' });
  });
});
