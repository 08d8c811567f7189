/**
 * The provider contract: every chat-completions provider, built by the service's own factory (createClassifier) from
 * environment settings, against a fake as strict as its published contract. Same questions for each: is the request
 * one the service accepts, is each HTTP failure mapped to the kind the pipeline acts on, where does the confidence come
 * from, what does an image cost, and what happens to an answer that cannot be used.
 */
import type { AccessToken, TokenCredential } from '@azure/identity';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../../shared/config';
import type { ErrorCode } from '../../shared/errors';
import { isPermanentError, isTransientError } from '../../shared/errors';
import type { Classifier } from '../../shared/model';
import { costUsd } from '../../shared/model';
import { providerCapabilities } from '../../shared/model/providers/capabilities';
import { preprocessImage } from '../../shared/preprocess';
import type { PreprocessedImage } from '../../shared/preprocess/preprocessedImage';
import { loadProfiles } from '../../shared/profiles';
import type { LabelProfile, ObjectsProfile } from '../../shared/profiles/profileSchema';
import { createClassifier } from '../../shared/runtime/createServices';
import type { FakeFoundry } from '../support/fakeFoundry';
import { startFakeFoundry } from '../support/fakeFoundry';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { startFakeOpenAI } from '../support/fakeOpenAI';
import type { FakeVision } from '../support/fakeVision';
import { startFakeVision } from '../support/fakeVision';
import type { FaultProxy } from '../support/faultProxy';
import { startFaultProxy } from '../support/faultProxy';
import { jpeg } from '../support/imageFixtures';

const base = { AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net', COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/', MODEL_MAX_RETRIES: '0', MODEL_TIMEOUT_MS: '5000' };
const profile: LabelProfile = { name: 'colours', version: '1', kind: 'single-label', prompt: 'Which colour is the object?', detail: 'low', confidenceThreshold: 0.5, labels: [{ name: 'red' }, { name: 'blue' }, { name: 'green' }] };

type Failure = '401' | '403' | '404' | '429' | '500' | '503';

interface ProviderUnderTest {
  name: 'azure-openai' | 'azure-ai-foundry';
  start(): Promise<void>;
  stop(): Promise<void>;
  reset(): void;
  /** Settings of this provider (keyless) pointing at its fake; `deployment` overrides the deployment name. */
  env(deployment?: string): Record<string, string>;
  goodToken(): string;
  /** Arranges the next chat request to fail this way; returns the token to sign in with. */
  fail(kind: Failure): string;
  /** The next answer is unusable (prose or not JSON). */
  unusable(): void;
  /** The next answer picks `label` with the model's own estimate `self` (and, where the fake has them, token probability `p`). */
  answer(label: string, self: number, p: number): void;
  lastBody(): Record<string, unknown>;
  lastHeaders(): Record<string, string>;
  lastQuery(): Record<string, string>;
  lastUsage(): { prompt: number; completion: number };
  expected: { confidenceSource: 'logprobs' | 'self-reported'; responseFormat: string; logprobsSent: boolean; reportedModel: string };
}

let openai: FakeOpenAI;
let proxy: FaultProxy;
let foundry: FakeFoundry;
let token = '';
const scopes: string[] = [];

const azureOpenAI: ProviderUnderTest = {
  name: 'azure-openai',
  async start() {
    openai = await startFakeOpenAI();
    // Only for 403: the fake OpenAI has no identity without a role, so the proxy answers Azure OpenAI's 403 body.
    proxy = await startFaultProxy(openai.url);
  },
  async stop() {
    await proxy.close();
    await openai.close();
  },
  reset: () => openai.reset(),
  env: (deployment) => ({ AZURE_OPENAI_ENDPOINT: proxy.url, AZURE_OPENAI_DEPLOYMENT: deployment ?? openai.deployment, OPENAI_API_VERSION: openai.apiVersion }),
  goodToken: () => openai.bearerToken,
  fail(kind) {
    if (kind === '401') return 'expired-token';
    if (kind === '403') proxy.enqueue(() => true, { status: 403, body: { error: { code: 'PermissionDenied', message: 'Principal does not have access to API/Operation.' } } });
    if (kind === '429') openai.enqueue({ kind: 'throttle', retryAfterSeconds: 7 });
    if (kind === '500' || kind === '503') openai.enqueue({ kind: 'server-error', status: kind === '500' ? 500 : 503 });
    return openai.bearerToken;
  },
  unusable: () => openai.enqueue({ kind: 'malformed-json' }),
  answer: (label, self, p) => openai.setAnswer(() => ({ answer: { label, confidence: self }, confidences: { label: p } })),
  lastBody: () => openai.requests.at(-1)?.body as Record<string, unknown>,
  lastHeaders: () => openai.requests.at(-1)?.headers ?? {},
  lastQuery: () => openai.requests.at(-1)?.query ?? {},
  lastUsage() {
    throw new Error('the Azure OpenAI fake does not record usage; the cost test reads it from the classification');
  },
  expected: { confidenceSource: 'logprobs', responseFormat: 'json_schema', logprobsSent: true, reportedModel: 'gpt-4o-2024-11-20' },
};

const azureAIFoundry: ProviderUnderTest = {
  name: 'azure-ai-foundry',
  async start() {
    foundry = await startFakeFoundry();
  },
  stop: () => foundry.close(),
  reset: () => foundry.reset(),
  env: (deployment) => ({ MODEL_PROVIDER: 'azure-ai-foundry', FOUNDRY_ENDPOINT: foundry.url, FOUNDRY_MODEL: deployment ?? foundry.deployment }),
  goodToken: () => foundry.bearerToken,
  fail(kind) {
    if (kind === '401') return 'expired-token';
    if (kind === '403') return foundry.forbiddenToken;
    if (kind === '429') foundry.enqueue({ kind: 'throttle', retryAfterSeconds: 7 });
    if (kind === '500' || kind === '503') foundry.enqueue({ kind: 'server-error', status: kind === '500' ? 500 : 503 });
    return foundry.bearerToken;
  },
  unusable: () => foundry.enqueue({ kind: 'prose' }),
  answer: (label, self) => foundry.setAnswer(() => ({ label, confidence: self })),
  lastBody: () => foundry.requests.at(-1)?.body as Record<string, unknown>,
  lastHeaders: () => foundry.requests.at(-1)?.headers ?? {},
  lastQuery: () => foundry.requests.at(-1)?.query ?? {},
  lastUsage() {
    const u = foundry.requests.at(-1)?.usage;
    if (u === undefined) throw new Error('no answered request');
    return { prompt: u.prompt_tokens, completion: u.completion_tokens };
  },
  expected: { confidenceSource: 'self-reported', responseFormat: 'json_object', logprobsSent: false, reportedModel: 'Phi-4-multimodal-instruct' },
};

const credential: TokenCredential = {
  getToken(scope: string | string[]): Promise<AccessToken> {
    scopes.push(...(Array.isArray(scope) ? scope : [scope]));
    return Promise.resolve({ token, expiresOnTimestamp: Date.now() + 3_600_000 });
  },
};

let image: PreprocessedImage;
beforeAll(async () => {
  image = await preprocessImage(await jpeg(), { detail: 'low', maxBytes: 1_000_000, maxPixels: 1_000_000 });
});

describe.each([azureOpenAI, azureAIFoundry])('provider contract: $name', (p) => {
  beforeAll(() => p.start());
  afterAll(() => p.stop());
  beforeEach(() => {
    p.reset();
    scopes.length = 0;
    token = p.goodToken();
  });

  async function classifier(deployment?: string): Promise<Classifier> {
    const config = loadConfig({ ...base, ...p.env(deployment) });
    expect(config.model.provider).toBe(p.name);
    return createClassifier(config, () => credential, undefined);
  }

  it('sends a request the strict fake accepts, keyless with the cognitive services scope, and answers within the profile', async () => {
    p.answer('blue', 0.8, 0.9);
    const c = await classifier();
    const r = await c.classify({ image, profile });
    expect(r.result).toMatchObject({ kind: 'single-label', label: 'blue' });
    expect(r.calls).toBe(1);
    expect(r.model).toMatchObject({ provider: p.name, reportedModel: p.expected.reportedModel });
    expect(scopes).toEqual(['https://cognitiveservices.azure.com/.default']);
    expect(p.lastHeaders()['authorization']).toBe(`Bearer ${p.goodToken()}`);
    const body = p.lastBody();
    expect((body['response_format'] as { type: string }).type).toBe(p.expected.responseFormat);
    expect(body['logprobs'] === true).toBe(p.expected.logprobsSent);
    expect(body['temperature']).toBe(0);
  });

  it('confidence comes from the provider\'s best source', async () => {
    p.answer('green', 0.6, 0.75);
    const r = await (await classifier()).classify({ image, profile });
    expect(r.confidenceSource).toBe(p.expected.confidenceSource);
    expect(r.confidence).toBeCloseTo(p.expected.confidenceSource === 'logprobs' ? 0.75 : 0.6, 2);
  });

  it('costs the reported usage at the list price of the reported model', async () => {
    const r = await (await classifier()).classify({ image, profile });
    expect(r.usage.promptTokens).toBeGreaterThan(0);
    const expected = costUsd({ promptTokens: r.usage.promptTokens, completionTokens: r.usage.completionTokens }, p.expected.reportedModel, loadConfig({ ...base, ...p.env() }).prices);
    expect(expected).not.toBeNull();
    expect(r.usage.costUsd).toBeCloseTo(expected ?? Number.NaN, 12);
    if (p.name === 'azure-ai-foundry') {
      const u = p.lastUsage();
      expect([r.usage.promptTokens, r.usage.completionTokens]).toEqual([u.prompt, u.completion]);
      expect(r.usage.costUsd).toBeCloseTo((u.prompt * 0.08 + u.completion * 0.32) / 1e6, 12);
    }
  });

  it.each<[Failure, 'transient' | 'permanent', ErrorCode]>([
    ['401', 'transient', 'model_auth'],
    ['403', 'transient', 'model_auth'],
    ['404', 'transient', 'model_deployment_not_found'],
    ['429', 'transient', 'model_throttled'],
    ['500', 'transient', 'model_unavailable'],
    ['503', 'transient', 'model_unavailable'],
  ])('maps %s to %s %s', async (status, kind, code) => {
    token = p.fail(status);
    const c = await classifier(status === '404' ? 'no-such-deployment' : undefined);
    const error = await c.classify({ image, profile }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(kind === 'transient' ? isTransientError(error) : isPermanentError(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    if (status === '429') expect((error as { retryAfterMs?: number }).retryAfterMs).toBe(7000);
    const fix = (error as { details?: { fix?: string } }).details?.fix;
    if (status === '401' || status === '403') expect(fix).toMatch(p.name === 'azure-ai-foundry' ? /'Cognitive Services User' on the AI Services resource of FOUNDRY_ENDPOINT/ : /'Cognitive Services OpenAI User' role on the Azure OpenAI resource/);
    if (status === '404') expect(fix).toContain(p.name === 'azure-ai-foundry' ? 'FOUNDRY_MODEL on FOUNDRY_ENDPOINT' : 'AZURE_OPENAI_DEPLOYMENT');
  });

  it('an unusable answer is asked about once more, and answered', async () => {
    p.unusable();
    const r = await (await classifier()).classify({ image, profile });
    expect(r.calls).toBe(2);
    expect(r.result.kind).toBe('single-label');
  });

  it('an answer that stays unusable fails the image with model_invalid_output, usage counted', async () => {
    p.unusable();
    p.unusable();
    const error = await (await classifier()).classify({ image, profile }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPermanentError(error) && error.code).toBe('model_invalid_output');
    expect((error as { details: { calls: number; usage: { promptTokens: number } } }).details).toMatchObject({ calls: 2 });
  });
});

/**
 * The same contract for the box provider (MODEL_PROVIDER=azure-ai-vision), on the parts that apply to it: it has no
 * chat request, prompt or re-ask of a wrong label, so "strict request" is the analyze call the spec defines.
 */
describe('provider contract: azure-ai-vision (boxes)', () => {
  let vision: FakeVision;
  let boxImage: PreprocessedImage;
  const boxProfile = loadProfiles().get('driving-objects') as ObjectsProfile;
  beforeAll(async () => {
    vision = await startFakeVision();
    const red = await sharp({ create: { width: 60, height: 40, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
    const bytes = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 90, g: 90, b: 90 } } }).composite([{ input: red, left: 20, top: 30 }]).jpeg({ quality: 95 }).toBuffer();
    boxImage = await preprocessImage(bytes, { detail: 'low', maxBytes: 1_000_000, maxPixels: 1_000_000 });
  });
  afterAll(() => vision.close());
  beforeEach(() => {
    vision.reset();
    scopes.length = 0;
    token = vision.bearerToken;
  });
  const visionEnv = (extra: Record<string, string> = {}): Record<string, string> => ({ ...base, MODEL_PROVIDER: 'azure-ai-vision', VISION_ENDPOINT: vision.url, ...extra });
  const boxClassifier = (extra?: Record<string, string>): Promise<Classifier> => createClassifier(loadConfig(visionEnv(extra)), () => credential, undefined);

  it('sends the analyze request the strict fake accepts: image bytes, features=objects, keyless with the cognitive services scope', async () => {
    const r = await (await boxClassifier()).classify({ image: boxImage, profile: boxProfile });
    expect(r.result).toMatchObject({ kind: 'objects', objects: [{ label: 'car' }] });
    const sent = vision.requests.at(-1);
    expect(sent).toMatchObject({ method: 'POST', path: '/computervision/imageanalysis:analyze', query: { 'api-version': '2023-10-01', features: 'objects' }, status: 200, bytes: boxImage.jpeg.length });
    expect(sent?.headers['content-type']).toBe('application/octet-stream');
    expect(sent?.headers['authorization']).toBe(`Bearer ${vision.bearerToken}`);
    expect(sent?.headers['ocp-apim-subscription-key']).toBeUndefined();
    expect(scopes).toEqual(['https://cognitiveservices.azure.com/.default']);
    expect(r.model).toMatchObject({ provider: 'azure-ai-vision', reportedModel: '2023-10-01' });
  });

  it("confidence comes from the service's own per-box confidence (no logprobs, no self-estimate)", async () => {
    vision.setAnswer(({ detected }) => [...detected, { boundingBox: { x: 200, y: 20, w: 40, h: 80 }, tags: [{ name: 'person', confidence: 0.55 }] }]);
    const r = await (await boxClassifier()).classify({ image: boxImage, profile: boxProfile });
    if (r.result.kind !== 'objects') throw new Error('not objects');
    expect(r.result.objects.map((o) => [o.label, o.score])).toEqual([['car', 0.912], ['pedestrian', 0.55]]);
    expect(r.confidenceSource).toBe('none');
    expect(r.confidence).toBe(0.55);
    expect(providerCapabilities('azure-ai-vision')).toMatchObject({ logprobs: false, boxes: true, labels: false, keyless: true, paid: true });
  });

  it('costs one transaction at the list price per 1,000 (VISION_PRICE_PER_1000 overrides it); no tokens', async () => {
    const listPrice = providerCapabilities('azure-ai-vision').usdPer1000Transactions ?? Number.NaN;
    const r = await (await boxClassifier()).classify({ image: boxImage, profile: boxProfile });
    expect(r.usage).toEqual({ promptTokens: 0, completionTokens: 0, costUsd: listPrice / 1000 });
    const priced = await (await boxClassifier({ VISION_PRICE_PER_1000: '2.5' })).classify({ image: boxImage, profile: boxProfile });
    expect(priced.usage.costUsd).toBeCloseTo(0.0025, 12);
    expect(vision.transactions).toBe(2);
  });

  it.each<[Failure | '400', 'transient' | 'permanent', ErrorCode]>([
    ['400', 'permanent', 'invalid_image'],
    ['401', 'transient', 'model_auth'],
    ['403', 'transient', 'model_auth'],
    ['404', 'transient', 'model_deployment_not_found'],
    ['429', 'transient', 'model_throttled'],
    ['500', 'transient', 'model_unavailable'],
    ['503', 'transient', 'model_unavailable'],
  ])('maps %s to %s %s', async (status, kind, code) => {
    if (status === '401') token = 'expired-token';
    if (status === '403') token = vision.forbiddenToken;
    if (status === '429') vision.enqueue({ kind: 'throttle', retryAfterSeconds: 7 });
    if (status === '500' || status === '503') vision.enqueue({ kind: 'server-error', status: status === '500' ? 500 : 503 });
    // 404: an endpoint that is not a Vision resource's root; 400: bytes that are no image (the fake decodes what it is sent).
    const c = await boxClassifier(status === '404' ? { VISION_ENDPOINT: `${vision.url}/not-vision` } : {});
    const image = status === '400' ? { ...boxImage, jpeg: Buffer.from('this is not an image at all') } : boxImage;
    const error = await c.classify({ image, profile: boxProfile }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(vision.requests.at(-1)?.status).toBe(Number(status));
    expect(kind === 'transient' ? isTransientError(error) : isPermanentError(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    if (status === '429') expect((error as { retryAfterMs?: number }).retryAfterMs).toBe(7000);
    const fix = (error as { details?: { fix?: string } }).details?.fix;
    if (status === '401' || status === '403') expect(fix).toMatch(/'Cognitive Services User' role on the Azure AI Vision resource of VISION_ENDPOINT/);
    if (status === '404') expect(fix).toContain('VISION_ENDPOINT has no Image Analysis 4.0');
    expect(vision.transactions).toBe(0);
  });
});
