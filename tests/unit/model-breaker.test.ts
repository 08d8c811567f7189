import { describe, expect, it } from 'vitest';

import type { TransientError } from '../../shared/errors';
import type { Logger } from '../../shared/logging';
import type { Classifier, ClassifyInput, ModelClassification } from '../../shared/model';
import { CircuitBreakingClassifier, mapModelError } from '../../shared/model';
import type { PreprocessedImage } from '../../shared/preprocess/preprocessedImage';
import type { Profile } from '../../shared/profiles/profileSchema';

const pets: Profile = {
  name: 'pets',
  version: '1',
  kind: 'single-label',
  prompt: 'Which animal is this?',
  detail: 'low',
  confidenceThreshold: 0.7,
  labels: [{ name: 'cat' }, { name: 'dog' }],
};
const image: PreprocessedImage = {
  jpeg: Buffer.from([0xff, 0xd8, 0xff]),
  detail: 'low',
  width: 512,
  height: 384,
  estimatedImageTokens: 85,
  original: { width: 512, height: 384, format: 'jpeg', sha256: 'ab'.repeat(32), bytes: 3 },
};
const input: ClassifyInput = { image, profile: pets };
const answer: ModelClassification = {
  result: { kind: 'single-label', label: 'dog' },
  confidence: 0.9,
  confidenceSource: 'logprobs',
  usage: { promptTokens: 100, completionTokens: 5, costUsd: 0.0003 },
  model: { provider: 'azure-openai', deployment: 'gpt-4o', apiVersion: '2024-10-21', reportedModel: 'gpt-4o-2024-11-20' },
  calls: 1,
} as unknown as ModelClassification;

/** What the openai SDK throws for an HTTP error: `status` and the response's `error` object. */
function httpError(status: number, code: string, message: string): Error {
  return Object.assign(new Error(`${status} ${message}`), { status, error: { code, message } });
}

type Step = 'ok' | Error;

/** A classifier that plays `steps` in order (the last one repeats) and counts the calls that reached it. */
function scripted(steps: Step[]): Classifier & { calls: number } {
  const c = {
    calls: 0,
    info: { provider: 'azure-openai', deployment: 'gpt-4o', apiVersion: '2024-10-21' },
    supportedKinds: ['single-label'] as const,
    classify(): Promise<ModelClassification> {
      const step = steps[Math.min(c.calls, steps.length - 1)] ?? 'ok';
      c.calls++;
      return step === 'ok' ? Promise.resolve(answer) : Promise.reject(mapModelError(step));
    },
  };
  return c;
}

function recordingLog(): Logger & { lines: { level: string; message: string; props: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; props: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, props: Record<string, unknown> = {}) => void lines.push({ level, message, props });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

const unauthorized = httpError(401, 'PermissionDenied', 'The principal lacks the required data action.');
const forbidden = httpError(403, 'PermissionDenied', 'Principal does not have access to API/Operation.');
const noDeployment = httpError(404, 'DeploymentNotFound', 'The API deployment for this resource does not exist.');

async function caught(p: Promise<unknown>): Promise<TransientError> {
  try {
    await p;
  } catch (e) {
    return e as TransientError;
  }
  throw new Error('expected a rejection');
}

describe('model misconfiguration errors', () => {
  it.each([
    [401, unauthorized, 'model_auth', /Cognitive Services OpenAI User.*10 min/],
    [403, forbidden, 'model_auth', /Cognitive Services OpenAI User.*10 min/],
    [404, noDeployment, 'model_deployment_not_found', /AZURE_OPENAI_DEPLOYMENT does not exist on AZURE_OPENAI_ENDPOINT/],
  ])('%i is its own transient kind whose message and details name the fix', (status, error, code, fix) => {
    const e = mapModelError(error);
    expect(e).toMatchObject({ kind: 'transient', code, details: { status } });
    expect(e.message).toMatch(fix);
    expect(e.details?.['fix']).toMatch(fix);
  });
});

describe('CircuitBreakingClassifier', () => {
  const options = (now: () => number, log: Logger) => ({ threshold: 3, cooldownMs: 60_000, log, endpoint: 'https://res.openai.azure.com/', now });

  it('after N consecutive 401s stops calling the model: model_unavailable without a call, naming the fix and the wait', async () => {
    let t = 1_000_000;
    const inner = scripted([unauthorized]);
    const log = recordingLog();
    const breaker = new CircuitBreakingClassifier(inner, options(() => t, log));
    for (let i = 0; i < 3; i++) expect(await caught(breaker.classify(input))).toMatchObject({ kind: 'transient', code: 'model_auth' });
    expect(inner.calls).toBe(3);

    t += 10_000;
    const e = await caught(breaker.classify(input));
    expect(inner.calls).toBe(3);
    expect(e).toMatchObject({ kind: 'transient', code: 'model_unavailable', retryAfterMs: 50_000, details: { breaker: 'open', cause: 'model_auth' } });
    expect(e.message).toMatch(/Cognitive Services OpenAI User/);
    expect(breaker.status()).toMatchObject({ state: 'open', consecutiveMisconfigurations: 3, retryAt: new Date(1_000_000 + 60_000).toISOString(), last: { outcome: 'error', code: 'model_auth' } });

    // Every misconfiguration and the opening are logged with the fix.
    const errors = log.lines.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.message)).toEqual([...Array<string>(3).fill('model call refused: misconfiguration'), 'model circuit breaker open: calls suspended']);
    for (const line of errors) expect(String(line.props['fix'])).toMatch(/Cognitive Services OpenAI User/);
    expect(errors[0]?.props).toMatchObject({ status: 401, deployment: 'gpt-4o', endpoint: 'https://res.openai.azure.com/' });
  });

  it('half-opens after the cool-down: one trial call; a fixed role closes it, a failing trial re-opens it', async () => {
    let t = 0;
    const inner = scripted([noDeployment, noDeployment, noDeployment, noDeployment, 'ok']);
    const breaker = new CircuitBreakingClassifier(inner, options(() => t, recordingLog()));
    for (let i = 0; i < 3; i++) await caught(breaker.classify(input));
    expect(breaker.status().state).toBe('open');

    t += 60_000;
    expect(breaker.status().state).toBe('half-open');
    expect(await caught(breaker.classify(input))).toMatchObject({ code: 'model_deployment_not_found' });
    expect(inner.calls).toBe(4);
    expect(breaker.status().state).toBe('open');
    expect(await caught(breaker.classify(input))).toMatchObject({ code: 'model_unavailable' });
    expect(inner.calls).toBe(4);

    t += 60_000;
    await expect(breaker.classify(input)).resolves.toBe(answer);
    expect(inner.calls).toBe(5);
    expect(breaker.status()).toMatchObject({ state: 'closed', consecutiveMisconfigurations: 0, retryAt: null, last: { outcome: 'ok', at: new Date(120_000).toISOString() } });
  });

  it('lets only one trial through while half-open; concurrent calls are refused without a call', async () => {
    let t = 0;
    let release: (() => void) | undefined;
    const failing = scripted([unauthorized]);
    let calls = 0;
    const inner: Classifier = {
      ...failing,
      classify: (i) => {
        calls++;
        // The first three calls fail with 401; the trial waits until released, then succeeds.
        return calls <= 3 ? failing.classify(i) : new Promise((resolve) => (release = () => resolve(answer)));
      },
    };
    const breaker = new CircuitBreakingClassifier(inner, options(() => t, recordingLog()));
    for (let i = 0; i < 3; i++) await caught(breaker.classify(input));
    t += 60_000;
    const trial = breaker.classify(input);
    expect(await caught(breaker.classify(input))).toMatchObject({ code: 'model_unavailable', details: { breaker: 'half-open' } });
    expect(calls).toBe(4);
    release?.();
    await expect(trial).resolves.toBe(answer);
    expect(breaker.status().state).toBe('closed');
  });

  it('counts only consecutive misconfigurations: an answer in between (even a 429) resets the count', async () => {
    const throttled = httpError(429, '429', 'Rate limit');
    const inner = scripted([unauthorized, unauthorized, throttled, unauthorized, unauthorized, 'ok']);
    const breaker = new CircuitBreakingClassifier(inner, options(() => 0, recordingLog()));
    for (let i = 0; i < 5; i++) await caught(breaker.classify(input));
    expect(breaker.status()).toMatchObject({ state: 'closed', consecutiveMisconfigurations: 2 });
    await breaker.classify(input);
    expect(inner.calls).toBe(6);
    expect(breaker.status().consecutiveMisconfigurations).toBe(0);
  });

  it('a timeout neither resets the count nor opens the breaker by itself', async () => {
    const timeout = Object.assign(new Error('Request timed out.'), { name: 'APIConnectionTimeoutError' });
    const inner = scripted([unauthorized, unauthorized, timeout, unauthorized, 'ok']);
    const breaker = new CircuitBreakingClassifier(inner, options(() => 0, recordingLog()));
    for (let i = 0; i < 3; i++) await caught(breaker.classify(input));
    expect(breaker.status()).toMatchObject({ state: 'closed', consecutiveMisconfigurations: 2, last: { code: 'model_timeout' } });
    await caught(breaker.classify(input));
    expect(breaker.status().state).toBe('open');
  });
});
