/** DAILY_BUDGET_USD on the emulators: over the cap new work waits (nothing written, nothing paid) and resumes. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { DailyBudget } from '../../shared/budget';
import { loadConfig } from '../../shared/config';
import { processBlobCreated } from '../../shared/pipeline';
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
const warnings: string[] = [];
const log = { debug: () => undefined, info: () => undefined, warn: (m: string) => void warnings.push(m), error: () => undefined };

beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  fake.reset();
  warnings.length = 0;
  fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'cat' }) }));
  app = await startTestApp(fake, { DAILY_BUDGET_USD: '0.0001' });
});
afterEach(async () => {
  await app.cleanup();
});

const modelCalls = (): number => fake.requests.filter((r) => r.path.endsWith('/chat/completions')).length;

describe('DAILY_BUDGET_USD', () => {
  it('is read from the environment: unset means no cap, a bad value is a configuration error', () => {
    expect(app.services.config.budget.dailyUsd).toBe(0.0001);
    const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', COSMOS_ENDPOINT: 'https://127.0.0.1:8081', AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com', AZURE_OPENAI_DEPLOYMENT: 'gpt-4o' };
    expect(loadConfig(base).budget.dailyUsd).toBeUndefined();
    expect(() => loadConfig({ ...base, DAILY_BUDGET_USD: '-5' })).toThrow(/DAILY_BUDGET_USD/);
    expect(() => loadConfig({ ...base, DAILY_BUDGET_USD: 'lots' })).toThrow(/DAILY_BUDGET_USD/);
  });

  it('lets new work wait once today\'s cost reaches the cap, and resumes it when the cap is raised or the day changes', async () => {
    // The services' gate caches its reading for 15 s; this one reads every time, so the test sees each change.
    const budget = new DailyBudget(app.services.stats, 0.0001, { cacheMs: 0, log });
    const deps = { ...pipelineDeps(app.services), budget };
    const deliver = async (name: string, u: { eTag: string; contentLength: number }, extra: Partial<typeof deps> = {}): ReturnType<typeof processBlobCreated> =>
      processBlobCreated(blobCreatedEvent({ container: app.services.images.containerName, name, eTag: u.eTag, contentLength: u.contentLength }), { ...deps, ...extra });

    const first = await deliver('pets/a.jpg', await app.upload('pets/a.jpg', await jpeg(120, 90, { colour: '#123456' })));
    expect(first.outcome).toBe('classified');
    const spent = (await budget.status(new Date())).spentTodayUsd;
    expect(spent).toBeGreaterThanOrEqual(0.0001);

    const u = await app.upload('pets/b.jpg', await jpeg(121, 90, { colour: '#654321' }));
    const calls = modelCalls();
    // Over the cap: handed back (transient, with the wait until midnight UTC), nothing written, nothing paid.
    const waited = await deliver('pets/b.jpg', u).catch((e: unknown) => e);
    expect(waited).toMatchObject({ kind: 'transient', code: 'budget_reached' });
    expect((waited as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    expect((waited as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(86_400_000);
    expect(await app.services.store.get(documentId(app.services.images.containerName, 'pets/b.jpg'))).toBeUndefined();
    expect(modelCalls()).toBe(calls);
    expect(warnings).toContain('daily budget reached: new work waits');
    expect(await budget.status(new Date())).toMatchObject({ dailyUsd: 0.0001, reached: true });

    // A redelivery while still over the cap waits again; a duplicate of finished work is still acknowledged.
    await expect(deliver('pets/b.jpg', u)).rejects.toMatchObject({ code: 'budget_reached' });
    const dup = await app.deliver('pets/a.jpg', { eTag: first.outcome === 'classified' ? first.document.blob.eTag : '', contentLength: 0 });
    expect(dup.outcome).toBe('duplicate');

    // The next UTC day: the same redelivery goes through.
    const tomorrow = new Date(Date.now() + 86_400_000);
    const next = await deliver('pets/b.jpg', u, { now: () => tomorrow });
    expect(next.outcome).toBe('classified');
    expect(modelCalls()).toBe(calls + 1);

    // A raised cap (a new process with the new setting): work resumes today.
    const c = await app.upload('pets/c.jpg', await jpeg(122, 90, { colour: '#abcabc' }));
    await expect(deliver('pets/c.jpg', c)).rejects.toMatchObject({ code: 'budget_reached' });
    const raised = new DailyBudget(app.services.stats, 10, { cacheMs: 0, log });
    expect((await deliver('pets/c.jpg', c, { budget: raised })).outcome).toBe('classified');
  });
});
