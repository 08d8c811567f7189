import type { TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';

import type { BlobsightConfig, ModelConfig } from '../../shared/config';
import { DEFAULT_PRICES } from '../../shared/config';
import { isPermanentError, isTransientError } from '../../shared/errors';
import type { ModelInfo } from '../../shared/model';
import { COGNITIVE_SERVICES_SCOPE, createOpenAIClient, KEYLESS_API_KEY_PLACEHOLDER, OpenAIClassifier } from '../../shared/model';
import type { PreprocessedImage } from '../../shared/preprocess/preprocessedImage';
import type { Profile } from '../../shared/profiles/profileSchema';

// The real OpenAI / AzureOpenAI clients, driven through a fake fetch: nothing leaves the process.

const pets: Profile = {
  name: 'pets',
  version: '1',
  kind: 'single-label',
  prompt: 'Which animal is this?',
  detail: 'low',
  confidenceThreshold: 0.7,
  labels: [{ name: 'cat' }, { name: 'dog' }, { name: 'golden retriever' }],
};

const tags: Profile = {
  name: 'tags',
  version: '1',
  kind: 'multi-label',
  prompt: 'Tag the photo.',
  detail: 'low',
  confidenceThreshold: 0.7,
  labels: [{ name: 'cat' }, { name: 'dog' }, { name: 'outdoor' }],
};

const image: PreprocessedImage = {
  jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x10, 0x20, 0x30, 0x40]),
  detail: 'low',
  width: 512,
  height: 384,
  estimatedImageTokens: 85,
  original: { width: 512, height: 384, format: 'jpeg', sha256: 'cd'.repeat(32), bytes: 8 },
};

const azure: Extract<ModelConfig, { provider: 'azure-openai' }> = {
  provider: 'azure-openai',
  endpoint: 'https://blobsight-test.openai.azure.com/',
  deployment: 'gpt4o-vision',
  apiVersion: '2024-10-21',
  apiKey: undefined,
};
const info: ModelInfo = { provider: 'azure-openai', deployment: 'gpt4o-vision', apiVersion: '2024-10-21' };
const fast: BlobsightConfig['modelRequest'] = { timeoutMs: 5_000, maxRetries: 2, logprobs: true };

interface Recorded {
  url: URL;
  headers: Headers;
  body: Record<string, unknown>;
}

type Reply = (req: Recorded, signal: AbortSignal | undefined) => Response | Promise<Response>;

/** A fetch that records each request and answers with the next reply (the last one repeats). */
function fakeFetch(...replies: Reply[]) {
  const requests: Recorded[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const req: Recorded = {
      url: new URL(input instanceof Request ? input.url : String(input)),
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : {},
    };
    requests.push(req);
    const reply = replies[Math.min(requests.length, replies.length) - 1];
    if (reply === undefined) throw new Error('no reply configured');
    return reply(req, init?.signal ?? undefined);
  };
  return { fetch: fetch, requests };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

interface CompletionOptions {
  finishReason?: string;
  logprobs?: { token: string; logprob: number; bytes: number[] | null; top_logprobs: [] }[] | null;
  model?: string;
  usage?: { prompt_tokens: number; completion_tokens: number };
  refusal?: string | null;
  contentFilterResults?: Record<string, unknown>;
}

/** A chat.completion body shaped like Azure's (2024-10-21). */
function completion(content: string | null, o: CompletionOptions = {}): Reply {
  return json(200, {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: o.model ?? 'gpt-4o-2024-11-20',
    choices: [
      {
        index: 0,
        finish_reason: o.finishReason ?? 'stop',
        message: { role: 'assistant', content, refusal: o.refusal ?? null },
        logprobs: o.logprobs === undefined || o.logprobs === null ? null : { content: o.logprobs, refusal: null },
        ...(o.contentFilterResults === undefined ? {} : { content_filter_results: o.contentFilterResults }),
      },
    ],
    usage: { ...(o.usage ?? { prompt_tokens: 120, completion_tokens: 12 }), total_tokens: 0 },
  });
}

function logprobs(...pieces: [string, number][]) {
  return pieces.map(([token, p]) => ({ token, logprob: Math.log(p), bytes: [...Buffer.from(token)], top_logprobs: [] as [] }));
}

function fakeCredential() {
  const scopes: (string | string[])[] = [];
  const credential: TokenCredential = {
    getToken: (s) => {
      scopes.push(s);
      return Promise.resolve({ token: 'fake-entra-token', expiresOnTimestamp: Date.now() + 3_600_000 });
    },
  };
  return { credential, scopes };
}

function classifier(fetch: typeof globalThis.fetch, request = fast, options: { logprobs?: boolean } = {}) {
  const client = createOpenAIClient(azure, request, { credential: fakeCredential().credential, fetch });
  return new OpenAIClassifier({ client, info, model: azure.deployment, prices: DEFAULT_PRICES, logprobs: options.logprobs ?? request.logprobs });
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

const answer = '{"label":"golden retriever","confidence":0.8}';

describe('request', () => {
  it('keyless Azure: deployment path, api-version, bearer token from the credential, no api-key, strict schema, small max_tokens', async () => {
    const { fetch, requests } = fakeFetch(completion(answer));
    const { credential, scopes } = fakeCredential();
    const client = createOpenAIClient(azure, fast, { credential, fetch });
    await new OpenAIClassifier({ client, info, model: azure.deployment, prices: DEFAULT_PRICES, logprobs: true }).classify({ image, profile: pets });

    const [req] = requests;
    expect(req?.url.origin + (req?.url.pathname ?? '')).toBe('https://blobsight-test.openai.azure.com/openai/deployments/gpt4o-vision/chat/completions');
    expect(req?.url.searchParams.get('api-version')).toBe('2024-10-21');
    expect(req?.headers.get('authorization')).toBe('Bearer fake-entra-token');
    expect(req?.headers.has('api-key')).toBe(false);
    expect(scopes.flat()).toContain(COGNITIVE_SERVICES_SCOPE);

    const body = req?.body ?? {};
    expect(body['model']).toBe('gpt4o-vision');
    expect(body['temperature']).toBe(0);
    expect(body['logprobs']).toBe(true);
    expect(body['n']).toBe(1);
    expect(body['top_logprobs']).toBeUndefined();
    expect(body['response_format']).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'pets', strict: true, schema: { properties: { label: { enum: ['cat', 'dog', 'golden retriever'] } }, additionalProperties: false } },
    });
    // Small (Azure counts max_tokens against TPM) yet at least the answer's length in tokens at 3 bytes each.
    expect(body['max_tokens']).toBeLessThanOrEqual(100);
    expect(body['max_tokens']).toBeGreaterThanOrEqual(Math.ceil(answer.length / 3));
    const user = (body['messages'] as { role: string; content: unknown }[]).find((m) => m.role === 'user');
    expect(user?.content).toContainEqual({ type: 'image_url', image_url: { url: `data:image/jpeg;base64,${image.jpeg.toString('base64')}`, detail: 'low' } });
  });

  it('ignores stray OPENAI_BASE_URL / AZURE_OPENAI_API_KEY variables: the validated config decides endpoint and auth', async () => {
    const saved = { base: process.env['OPENAI_BASE_URL'], key: process.env['AZURE_OPENAI_API_KEY'] };
    process.env['OPENAI_BASE_URL'] = 'http://127.0.0.1:1/v1';
    process.env['AZURE_OPENAI_API_KEY'] = 'stray-key';
    try {
      const { fetch, requests } = fakeFetch(completion(answer));
      await classifier(fetch).classify({ image, profile: pets });
      expect(requests[0]?.url.host).toBe('blobsight-test.openai.azure.com');
      expect(requests[0]?.headers.get('authorization')).toBe('Bearer fake-entra-token');
      expect(requests[0]?.headers.has('api-key')).toBe(false);
    } finally {
      for (const [name, value] of [['OPENAI_BASE_URL', saved.base], ['AZURE_OPENAI_API_KEY', saved.key]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('Azure with a configured key sends api-key and no bearer token', async () => {
    const { fetch, requests } = fakeFetch(completion(answer));
    const client = createOpenAIClient({ ...azure, apiKey: 'k-123' }, fast, { fetch });
    await new OpenAIClassifier({ client, info, model: azure.deployment, prices: DEFAULT_PRICES, logprobs: true }).classify({ image, profile: pets });
    expect(requests[0]?.headers.get('api-key')).toBe('k-123');
    expect(requests[0]?.headers.has('authorization')).toBe(false);
  });

  it('an OpenAI-compatible endpoint gets the model name under its base URL, with a placeholder key when keyless', async () => {
    const { fetch, requests } = fakeFetch(completion(answer, { model: 'llava:13b' }));
    const client = createOpenAIClient({ provider: 'openai-compatible', baseURL: 'http://127.0.0.1:11434/v1', model: 'llava:13b', apiKey: undefined }, fast, { fetch });
    const r = await new OpenAIClassifier({
      client,
      info: { provider: 'openai-compatible', deployment: 'llava:13b', apiVersion: null },
      model: 'llava:13b',
      prices: DEFAULT_PRICES,
      logprobs: false,
    }).classify({ image, profile: pets });
    expect(requests[0]?.url.href).toBe('http://127.0.0.1:11434/v1/chat/completions');
    expect(requests[0]?.headers.get('authorization')).toBe(`Bearer ${KEYLESS_API_KEY_PLACEHOLDER}`);
    expect(requests[0]?.body['model']).toBe('llava:13b');
    expect(requests[0]?.body['logprobs']).toBe(false);
    expect(r.model.reportedModel).toBe('llava:13b');
    expect(r.usage.costUsd).toBeNull();
  });
});

describe('confidence', () => {
  it('comes from logprobs when the endpoint returns them', async () => {
    const tokens = logprobs(['{"label":"', 1], ['golden', 0.8], [' retriever', 0.9], ['","confidence":', 1], ['0.8', 1], ['}', 1]);
    const { fetch } = fakeFetch(completion(answer, { logprobs: tokens }));
    const r = await classifier(fetch).classify({ image, profile: pets });
    expect(r.confidenceSource).toBe('logprobs');
    expect(r.confidence).toBeCloseTo(0.72, 10);
    expect(r.result).toMatchObject({ kind: 'single-label', label: 'golden retriever' });
  });

  it('multi-label lists only present labels with P(true); the overall is the weakest decision', async () => {
    const content = '{"labels":{"cat":true,"dog":false,"outdoor":false},"confidence":0.9}';
    const tokens = logprobs(['{"labels":{"cat":', 1], ['true', 0.95], [',"dog":', 1], ['false', 0.6], [',"outdoor":', 1], ['false', 0.99], ['},"confidence":0.9}', 1]);
    const { fetch } = fakeFetch(completion(content, { logprobs: tokens }));
    const r = await classifier(fetch).classify({ image, profile: tags });
    expect(r.result.kind === 'multi-label' && r.result.labels.map((d) => d.label)).toEqual(['cat']);
    expect(r.result.kind === 'multi-label' && r.result.labels[0]?.confidence).toBeCloseTo(0.95, 10);
    expect(r.confidence).toBeCloseTo(0.6, 10);
  });

  it('falls back to the self-reported estimate when logprobs are null', async () => {
    const { fetch } = fakeFetch(completion(answer, { logprobs: null }));
    const r = await classifier(fetch).classify({ image, profile: pets });
    expect(r).toMatchObject({ confidenceSource: 'self-reported', confidence: 0.8, result: { label: 'golden retriever', confidence: 0.8 } });
  });

  it('ignores logprobs it did not ask for (MODEL_LOGPROBS=false) and reports none when there is no estimate either', async () => {
    const tokens = logprobs(['{"label":"cat"}', 0.5]);
    const { fetch, requests } = fakeFetch(completion('{"label":"cat"}', { logprobs: tokens }));
    const r = await classifier(fetch, { ...fast, logprobs: false }).classify({ image, profile: pets });
    expect(requests[0]?.body['logprobs']).toBe(false);
    expect(r).toMatchObject({ confidenceSource: 'none', confidence: null, result: { label: 'cat', confidence: null } });
  });
});

describe('throttling and faults', () => {
  it('a 429 with retry-after-ms is retried by the SDK and then succeeds', async () => {
    const { fetch, requests } = fakeFetch(json(429, { error: { code: '429', message: 'Rate limit is exceeded.' } }, { 'retry-after-ms': '10' }), completion(answer));
    const r = await classifier(fetch).classify({ image, profile: pets });
    expect(requests).toHaveLength(2);
    expect(r.calls).toBe(1);
    expect(r.result).toMatchObject({ label: 'golden retriever' });
  });

  it('a 429 that outlasts the retries is transient model_throttled with the server wait', async () => {
    const { fetch, requests } = fakeFetch(json(429, { error: { code: '429', message: 'Rate limit is exceeded.' } }, { 'retry-after-ms': '10' }));
    const e = await caught(classifier(fetch, { ...fast, maxRetries: 1 }).classify({ image, profile: pets }));
    expect(requests).toHaveLength(2);
    expect(isTransientError(e)).toBe(true);
    expect(e).toMatchObject({ code: 'model_throttled', retryAfterMs: 10 });
  });

  it.each([500, 503])('%i is transient model_unavailable after the SDK retries', async (status) => {
    const { fetch, requests } = fakeFetch(json(status, { error: { code: 'InternalServerError', message: 'oops' } }, { 'retry-after-ms': '1' }));
    const e = await caught(classifier(fetch, { ...fast, maxRetries: 1 }).classify({ image, profile: pets }));
    expect(requests).toHaveLength(2);
    expect(isTransientError(e)).toBe(true);
    expect(e).toMatchObject({ code: 'model_unavailable' });
  });

  const hang: Reply = (_req, signal) =>
    new Promise((_resolve, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });

  it('a request slower than MODEL_TIMEOUT_MS is transient model_timeout', async () => {
    const { fetch } = fakeFetch(hang);
    const e = await caught(classifier(fetch, { ...fast, timeoutMs: 20, maxRetries: 0 }).classify({ image, profile: pets }));
    expect(isTransientError(e)).toBe(true);
    expect(e).toMatchObject({ code: 'model_timeout' });
  });

  it("the caller's AbortSignal stops the call as a transient error", async () => {
    const { fetch } = fakeFetch(hang);
    const controller = new AbortController();
    const pending = classifier(fetch).classify({ image, profile: pets, signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    const e = await caught(pending);
    expect(e).toMatchObject({ kind: 'transient', code: 'model_timeout', details: { aborted: true } });
  });

  it('401 and 403 are transient model_auth (role assignments take minutes to propagate) and not retried by the SDK', async () => {
    for (const status of [401, 403]) {
      const { fetch, requests } = fakeFetch(json(status, { error: { code: 'PermissionDenied', message: 'no role' } }));
      const e = await caught(classifier(fetch).classify({ image, profile: pets }));
      expect(requests).toHaveLength(1);
      expect(e).toMatchObject({ kind: 'transient', code: 'model_auth', details: { status } });
      expect((e as Error).message).toMatch(/Cognitive Services OpenAI User/);
    }
  });

  it('404 DeploymentNotFound is transient model_deployment_not_found naming AZURE_OPENAI_DEPLOYMENT, not retried by the SDK', async () => {
    const { fetch, requests } = fakeFetch(json(404, { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' } }));
    const e = await caught(classifier(fetch).classify({ image, profile: pets }));
    expect(requests).toHaveLength(1);
    expect(e).toMatchObject({ kind: 'transient', code: 'model_deployment_not_found', details: { status: 404, code: 'DeploymentNotFound' } });
    expect((e as Error).message).toMatch(/AZURE_OPENAI_DEPLOYMENT does not exist on AZURE_OPENAI_ENDPOINT/);
  });

  it('a 400 content filter on the prompt is permanent content_filtered with its categories', async () => {
    const body = {
      error: {
        message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        type: null,
        param: 'prompt',
        code: 'content_filter',
        status: 400,
        innererror: {
          code: 'ResponsibleAIPolicyViolation',
          content_filter_result: {
            hate: { filtered: false, severity: 'safe' },
            self_harm: { filtered: false, severity: 'safe' },
            sexual: { filtered: true, severity: 'medium' },
            violence: { filtered: false, severity: 'low' },
          },
        },
      },
    };
    const { fetch, requests } = fakeFetch(json(400, body));
    const e = await caught(classifier(fetch).classify({ image, profile: pets }));
    expect(requests).toHaveLength(1);
    expect(isPermanentError(e)).toBe(true);
    expect(e).toMatchObject({ code: 'content_filtered', details: { categories: ['sexual'], source: 'prompt' } });
  });

  it('a 400 about the image is permanent invalid_image', async () => {
    const { fetch } = fakeFetch(json(400, { error: { code: 'BadRequest', message: 'Invalid image data.' } }));
    const e = await caught(classifier(fetch).classify({ image, profile: pets }));
    expect(e).toMatchObject({ kind: 'permanent', code: 'invalid_image' });
  });
});

describe('answers', () => {
  it('finish_reason content_filter is permanent content_filtered with the filtered category', async () => {
    const { fetch, requests } = fakeFetch(
      completion(null, { finishReason: 'content_filter', contentFilterResults: { violence: { filtered: true, severity: 'high' }, hate: { filtered: false, severity: 'safe' } } }),
    );
    const e = await caught(classifier(fetch).classify({ image, profile: pets }));
    expect(requests).toHaveLength(1);
    expect(e).toMatchObject({ kind: 'permanent', code: 'content_filtered', details: { categories: ['violence'], source: 'completion' } });
  });

  it('a label outside the set is asked about once more; usage and cost cover both calls', async () => {
    const { fetch, requests } = fakeFetch(
      completion('{"label":"unicorn","confidence":0.9}', { usage: { prompt_tokens: 1000, completion_tokens: 10 } }),
      completion('{"label":"dog","confidence":0.7}', { usage: { prompt_tokens: 1100, completion_tokens: 10 } }),
    );
    const r = await classifier(fetch).classify({ image, profile: pets });
    expect(r.calls).toBe(2);
    expect(r.result).toMatchObject({ label: 'dog' });
    expect(r.usage.promptTokens).toBe(2100);
    expect(r.usage.completionTokens).toBe(20);
    // gpt-4o: $2.50 in, $10 out per 1M tokens.
    expect(r.usage.costUsd).toBeCloseTo((2100 * 2.5 + 20 * 10) / 1e6, 12);
    expect(r.model).toEqual({ ...info, reportedModel: 'gpt-4o-2024-11-20' });
    const second = requests[1]?.body['messages'] as { role: string; content: unknown }[];
    expect(second.at(-2)).toEqual({ role: 'assistant', content: '{"label":"unicorn","confidence":0.9}' });
    expect(second.at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining('unicorn') });
  });

  it('an answer outside the set twice is permanent model_invalid_output with the reason', async () => {
    const { fetch, requests } = fakeFetch(completion('{"label":"unicorn","confidence":0.9}'));
    const e = await caught(classifier(fetch).classify({ image, profile: pets }));
    expect(requests).toHaveLength(2);
    expect(isPermanentError(e)).toBe(true);
    expect(e).toMatchObject({
      code: 'model_invalid_output',
      details: { reason: 'label_outside_set', content: '{"label":"unicorn","confidence":0.9}', calls: 2, usage: { promptTokens: 240, completionTokens: 24 } },
    });
  });

  it('an answer cut off at max_tokens is asked again with twice the budget', async () => {
    const { fetch, requests } = fakeFetch(completion('{"label":"golden', { finishReason: 'length' }), completion(answer));
    const r = await classifier(fetch).classify({ image, profile: pets });
    expect(r.calls).toBe(2);
    expect(requests[1]?.body['max_tokens']).toBe(2 * (requests[0]?.body['max_tokens'] as number));
  });

  it('malformed JSON, a refusal and an empty choice list each count as an unusable answer', async () => {
    for (const bad of [completion('{"label": "cat", '), completion(null, { refusal: 'I cannot help with that.' }), json(200, { id: 'x', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [] })]) {
      const { fetch, requests } = fakeFetch(bad, completion(answer));
      const r = await classifier(fetch).classify({ image, profile: pets });
      expect(requests).toHaveLength(2);
      expect(r.calls).toBe(2);
    }
  });
});
