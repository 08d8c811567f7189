/**
 * The fake Foundry endpoint refuses what the model inference API refuses (api-version, auth, model, extra parameters,
 * images per turn, unsupported response formats), and the Foundry classifier copes with what such a model lacks.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../../shared/config';
import { isPermanentError } from '../../shared/errors';
import { preprocessImage } from '../../shared/preprocess';
import type { PreprocessedImage } from '../../shared/preprocess/preprocessedImage';
import type { LabelProfile } from '../../shared/profiles/profileSchema';
import { createClassifier } from '../../shared/runtime/createServices';
import type { FakeFoundry } from '../support/fakeFoundry';
import { FOUNDRY_API_VERSIONS, FOUNDRY_REQUEST_PROPERTIES, startFakeFoundry } from '../support/fakeFoundry';
import { FOUNDRY_CONTENT_TYPES, FOUNDRY_EXTRA_PARAMETERS, FOUNDRY_RESPONSE_FORMATS, FOUNDRY_ROLES } from '../support/fakeFoundry/foundryContract';
import { jpeg } from '../support/imageFixtures';
import { SHARED_SPECS_DIR } from '../support/specs';

const SPEC = 'ai-model-inference-2025-04-01.json';
const base = { AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net', COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/', MODEL_MAX_RETRIES: '0', MODEL_TIMEOUT_MS: '5000' };
const profile: LabelProfile = { name: 'colours', version: '1', kind: 'single-label', prompt: 'Which colour?', detail: 'low', confidenceThreshold: 0.5, labels: [{ name: 'red' }, { name: 'blue' }] };

let fake: FakeFoundry;
let strictless: FakeFoundry;
let dataUrl: string;
let image: PreprocessedImage;

beforeAll(async () => {
  fake = await startFakeFoundry();
  strictless = await startFakeFoundry({ limits: { jsonMode: false } });
  const bytes = await jpeg();
  dataUrl = `data:image/jpeg;base64,${bytes.toString('base64')}`;
  image = await preprocessImage(bytes, { detail: 'low', maxBytes: 1_000_000, maxPixels: 1_000_000 });
});
afterAll(async () => {
  await fake.close();
  await strictless.close();
});
beforeEach(() => {
  fake.reset();
  strictless.reset();
});

async function post(body: unknown, o: { version?: string | null; headers?: Record<string, string>; path?: string } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const version = o.version === undefined ? fake.apiVersion : o.version;
  const url = `${fake.url}${o.path ?? '/models/chat/completions'}${version === null ? '' : `?api-version=${version}`}`;
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'api-key': fake.apiKey, ...o.headers }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const ok = (): Record<string, unknown> => ({
  model: fake.deployment,
  messages: [
    { role: 'system', content: 'Reply in JSON.' },
    { role: 'user', content: [{ type: 'text', text: 'Colour?' }, { type: 'image_url', image_url: { url: dataUrl } }] },
  ],
  response_format: { type: 'json_object' },
  temperature: 0,
  max_tokens: 50,
});

describe('fake Foundry: what the service refuses', () => {
  it('answers a request within the contract with the documented response shape and no logprobs', async () => {
    const { status, json } = await post(ok());
    expect(status).toBe(200);
    expect(json).toMatchObject({ object: 'chat.completion', model: 'Phi-4-multimodal-instruct', choices: [{ index: 0, finish_reason: 'stop', logprobs: null }] });
    expect(Object.keys(json['usage'] as object).sort()).toEqual(['completion_tokens', 'prompt_tokens', 'total_tokens']);
  });

  it('refuses an unknown or missing api-version, missing or wrong auth, an unknown route, no model and an unknown model', async () => {
    expect(await post(ok(), { version: '2024-10-21' })).toMatchObject({ status: 400, json: { error: { code: 'UnsupportedApiVersion' } } });
    expect((await post(ok(), { version: null })).status).toBe(400);
    expect((await post(ok(), { headers: { 'api-key': 'wrong' } })).status).toBe(401);
    const res = await fetch(`${fake.url}/models/chat/completions?api-version=${fake.apiVersion}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ok()) });
    expect(res.status).toBe(401);
    expect((await post(ok(), { path: '/openai/deployments/x/chat/completions' })).status).toBe(404);
    const { model: _m, ...noModel } = ok();
    expect(await post(noModel)).toMatchObject({ status: 400, json: { error: { code: 'no_model_name' } } });
    expect(await post({ ...ok(), model: 'gpt-4o' })).toMatchObject({ status: 404, json: { error: { code: 'unknown_model' } } });
  });

  it('extra-parameters: error (the default) refuses parameters MI does not define, drop ignores them, pass-through hands them on', async () => {
    const extra = { ...ok(), n: 1, logprobs: true };
    const refused = await post(extra);
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.json)).toContain("'n', 'logprobs'");
    expect((await post(extra, { headers: { 'extra-parameters': 'error' } })).status).toBe(422);
    expect((await post(extra, { headers: { 'extra-parameters': 'drop' } })).status).toBe(200);
    expect(fake.requests.at(-1)?.validated?.extra).toEqual({ passedThrough: [], dropped: ['n', 'logprobs'] });
    expect(fake.requests.at(-1)?.validated?.body).not.toHaveProperty('n');
    expect((await post(extra, { headers: { 'extra-parameters': 'pass-through' } })).status).toBe(200);
    expect(fake.requests.at(-1)?.validated?.extra).toEqual({ passedThrough: ['n', 'logprobs'], dropped: [] });
    expect((await post(ok(), { headers: { 'extra-parameters': 'ignore' } })).status).toBe(400);
  });

  it('refuses two images in one turn, temperature above 1, a bad role, an image that is not one, and json_schema on this model (422)', async () => {
    const two = ok();
    (two['messages'] as { content: unknown[] }[])[1]?.content.push({ type: 'image_url', image_url: { url: dataUrl } });
    expect(await post(two)).toMatchObject({ status: 400 });
    expect(JSON.stringify((await post(two)).json)).toContain('at most 1 image per turn');
    expect((await post({ ...ok(), temperature: 1.5 })).status).toBe(400);
    expect((await post({ ...ok(), messages: [{ role: 'robot', content: 'x' }] })).status).toBe(400);
    const notImage = ok();
    (notImage['messages'] as { content: { image_url?: { url: string } }[] }[])[1]!.content[1]!.image_url = { url: 'data:image/jpeg;base64,aGVsbG8=' };
    expect((await post(notImage)).status).toBe(400);
    const schema = await post({ ...ok(), response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } } });
    expect(schema).toMatchObject({ status: 422, json: { code: 'parameter_not_supported', detail: { loc: ['body', 'response_format'] } } });
  });

  it('states the contract MI publishes (skips without the spec file)', (ctx) => {
    const file = path.join(SHARED_SPECS_DIR, SPEC);
    if (!existsSync(file)) {
      ctx.skip(`${SPEC} is not in ${SHARED_SPECS_DIR}; the fake's contract constants cannot be checked against it`);
      return;
    }
    const spec = JSON.parse(readFileSync(file, 'utf8')) as { info: { version: string }; definitions: Record<string, { properties?: Record<string, unknown>; enum?: string[]; 'x-ms-enum'?: { values: { value: string }[] } }>; paths: Record<string, { post?: { parameters: { name?: string; enum?: string[] }[] } }> };
    expect(FOUNDRY_API_VERSIONS).toContain(spec.info.version);
    expect([...FOUNDRY_REQUEST_PROPERTIES].sort()).toEqual(Object.keys(spec.definitions['ChatCompletionsOptions']?.properties ?? {}).sort());
    const header = spec.paths['/chat/completions']?.post?.parameters.find((x) => x.name === 'extra-parameters');
    expect(header?.enum).toEqual([...FOUNDRY_EXTRA_PARAMETERS]);
    const values = (name: string): string[] => spec.definitions[name]?.['x-ms-enum']?.values.map((v) => v.value) ?? spec.definitions[name]?.enum ?? [];
    expect(values('ChatRole').sort()).toEqual([...FOUNDRY_ROLES].sort());
    const discriminated = (prefix: string): string[] =>
      Object.values(spec.definitions)
        .filter((d) => JSON.stringify((d as { allOf?: unknown }).allOf ?? '').includes(`"#/definitions/${prefix}"`))
        .map((d) => (d as { 'x-ms-discriminator-value': string })['x-ms-discriminator-value'])
        .sort();
    expect(discriminated('ChatMessageContentItem')).toEqual([...FOUNDRY_CONTENT_TYPES].sort());
    expect(discriminated('ChatCompletionsResponseFormat')).toEqual([...FOUNDRY_RESPONSE_FORMATS].sort());
  });
});

describe('Foundry classifier: what the model lacks is handled', () => {
  async function classifier(target: FakeFoundry, extra: Record<string, string> = {}): Promise<ReturnType<typeof createClassifier>> {
    return createClassifier(loadConfig({ ...base, MODEL_PROVIDER: 'azure-ai-foundry', FOUNDRY_ENDPOINT: `${target.url}/models`, FOUNDRY_MODEL: target.deployment, FOUNDRY_API_KEY: target.apiKey, ...extra }), undefined, undefined);
  }

  it('with FOUNDRY_API_KEY sends the key as api-key, the api-version default and extra-parameters: error', async () => {
    await (await classifier(fake)).classify({ image, profile });
    const r = fake.requests.at(-1);
    expect(r?.headers['api-key']).toBe(fake.apiKey);
    expect(r?.headers['authorization']).toBeUndefined();
    expect(r?.headers['extra-parameters']).toBe('error');
    expect(r?.query['api-version']).toBe('2025-04-01');
  });

  it('a model that refuses JSON mode is asked again without it, and later requests go without it: the image is answered', async () => {
    const c = await classifier(strictless);
    const first = await c.classify({ image, profile });
    expect(first.result).toMatchObject({ kind: 'single-label', label: 'red' });
    expect(strictless.requests.map((r) => r.status)).toEqual([422, 200]);
    expect(strictless.requests[1]?.body).not.toHaveProperty('response_format');
    await c.classify({ image, profile });
    expect(strictless.requests.map((r) => r.status)).toEqual([422, 200, 200]);
  });

  it('prose instead of JSON twice ends in a defined failure with the prose kept for the reviewer', async () => {
    fake.enqueue({ kind: 'prose', text: 'It is a red thing.' }, { kind: 'prose', text: 'Red, I think.' });
    const error = await (await classifier(fake)).classify({ image, profile }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPermanentError(error) && error.code).toBe('model_invalid_output');
    expect((error as { details: { reason: string; content: string } }).details).toMatchObject({ reason: 'invalid_json', content: 'Red, I think.' });
    // The re-ask carries the unusable answer and the schema is still in the system message.
    const second = fake.requests[1]?.body as { messages: { role: string; content: unknown }[] };
    expect(second.messages.some((m) => m.role === 'assistant' && m.content === 'It is a red thing.')).toBe(true);
    expect(String(second.messages[0]?.content)).toContain('valid against this JSON schema');
  });

  it('box profiles are not offered: the classifier does not list objects among its kinds', async () => {
    expect((await classifier(fake)).supportedKinds).not.toContain('objects');
  });
});
