/** A misconfigured model (wrong key or role, missing deployment) end to end: handed back, then no more calls, and health says why. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { healthHttp } from '../../shared/http';
import type { Logger } from '../../shared/logging';
import { documentId } from '../../shared/store';
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
  fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
});
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

const chatCalls = (): number => fake.requests.filter((r) => r.path.endsWith('/chat/completions')).length;

function recordingLog(): Logger & { errors: { message: string; props: Record<string, unknown> }[] } {
  const errors: { message: string; props: Record<string, unknown> }[] = [];
  return { errors, info: () => undefined, warn: () => undefined, error: (message, props = {}) => void errors.push({ message, props }) };
}

const modelCheck = async (a: TestApp): Promise<unknown> => {
  const check = a.services.health.checks.find((c) => c.name === 'model');
  if (check === undefined) throw new Error('no model health check');
  return check.run();
};

describe('a misconfigured model', () => {
  it.each([
    ['a deployment that does not exist (404)', { AZURE_OPENAI_DEPLOYMENT: 'gpt4o-typo' }, 'model_deployment_not_found', /AZURE_OPENAI_DEPLOYMENT does not exist on AZURE_OPENAI_ENDPOINT/],
    ['a key the endpoint refuses (401)', { AZURE_OPENAI_API_KEY: 'wrong-key' }, 'model_auth', /Cognitive Services OpenAI User/],
  ])('%s: images are handed back, after the threshold the model is no longer called, and health names the fix', async (_name, env, code, fix) => {
    const log = recordingLog();
    app = await startTestApp(fake, { ...env, MODEL_BREAKER_THRESHOLD: '2', MODEL_BREAKER_COOLDOWN_MS: '600000' }, { log });
    await expect(modelCheck(app)).resolves.toMatchObject({ breaker: 'closed', last: null });
    const bytes = await jpeg();

    for (const name of ['pets/a.jpg', 'pets/b.jpg']) {
      await expect(app.deliver(name, await app.upload(name, bytes))).rejects.toMatchObject({ kind: 'transient', code });
    }
    expect(chatCalls()).toBe(2);
    const doc = await app.services.store.get(documentId(app.services.images.containerName, 'pets/a.jpg'));
    expect(doc).toMatchObject({ status: 'processing', lastError: { code } });

    // Open: more images are handed back without a model call.
    for (const name of ['pets/c.jpg', 'pets/d.jpg', 'pets/a.jpg']) {
      await expect(app.deliver(name, await app.upload(name, bytes))).rejects.toMatchObject({ kind: 'transient', code: 'model_unavailable', details: { breaker: 'open', cause: code } });
    }
    expect(chatCalls()).toBe(2);

    await expect(modelCheck(app)).rejects.toThrow(fix);
    await expect(modelCheck(app)).rejects.toThrow(/breaker open/);
    const res = await healthHttp(new Request('http://127.0.0.1/api/health'), { params: {}, log }, app.services.health);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'degraded' });

    expect(log.errors.map((e) => e.message)).toContain('model circuit breaker open: calls suspended');
    expect(log.errors.find((e) => e.message === 'model call refused: misconfiguration')?.props).toMatchObject({ code, fix: expect.stringMatching(fix), endpoint: fake.url });
  });

  it('a healthy model reports its last outcome and time in the model check', async () => {
    app = await startTestApp(fake, {}, { log: recordingLog() });
    await app.put('pets/ok.jpg', await jpeg());
    const info = (await modelCheck(app)) as { breaker: string; last: { outcome: string; at: string } };
    expect(info).toMatchObject({ provider: 'azure-openai', deployment: fake.deployment, breaker: 'closed', last: { outcome: 'ok' } });
    expect(Number.isNaN(Date.parse(info.last.at))).toBe(false);
  });
});
