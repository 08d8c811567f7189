// The fake Azure OpenAI server answers the real `openai` client like the service, and refuses what the service refuses.
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  AuthenticationError,
  AzureOpenAI,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from 'openai';
import { ContentFilterFinishReasonError, LengthFinishReasonError } from 'openai/core/error';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

import {
  answerFromSchema,
  type FakeOpenAI,
  FORCED_TOKEN_LOGPROB,
  imageTokens,
  type JsonSchemaObject,
  startFakeOpenAI,
} from '../support/fakeOpenAI';

const schema: JsonSchemaObject = {
  type: 'object',
  properties: {
    label: { type: 'string', enum: ['golden_retriever', 'cat', 'bird'] },
    weather: { type: 'string', enum: ['clear', 'rainy', 'snowy'] },
    tags: {
      type: 'object',
      properties: { red: { type: 'boolean' }, blue: { type: 'boolean' } },
      required: ['red', 'blue'],
      additionalProperties: false,
    },
  },
  required: ['label', 'weather', 'tags'],
  additionalProperties: false,
};
const responseFormat = { type: 'json_schema', json_schema: { name: 'classification', strict: true, schema } } as const;

/** Azure-only response fields the openai package does not type. */
type AzureChoice = ChatCompletion.Choice & { content_filter_results: Record<string, unknown> };
type AzureCompletion = ChatCompletion & { prompt_filter_results: { content_filter_results: Record<string, unknown> }[] };
/** The parts of a recorded request body these tests read. */
interface SentBody {
  response_format?: { json_schema?: { name?: string; type?: string; schema?: Record<string, unknown> } };
}

let fake: FakeOpenAI;
let smallPng: string;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  smallPng = await imageDataUrl(64, 48, 'png');
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
});

async function imageDataUrl(width: number, height: number, format: 'png' | 'jpeg' = 'png'): Promise<string> {
  const image = sharp({ create: { width, height, channels: 3, background: { r: 200, g: 120, b: 40 } } });
  const bytes = await (format === 'png' ? image.png() : image.jpeg()).toBuffer();
  return `data:image/${format};base64,${bytes.toString('base64')}`;
}

function userMessage(url: string = smallPng, detail: 'low' | 'high' | 'auto' = 'low', text = 'Classify this image.') {
  return { role: 'user' as const, content: [{ type: 'text' as const, text }, { type: 'image_url' as const, image_url: { url, detail } }] };
}

function validBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { messages: [{ role: 'system', content: 'You label images.' }, userMessage()], response_format: responseFormat, ...extra };
}

function azure(extra: Partial<ConstructorParameters<typeof AzureOpenAI>[0]> = {}): AzureOpenAI {
  return new AzureOpenAI({ endpoint: fake.url, apiKey: fake.apiKey, apiVersion: fake.apiVersion, maxRetries: 0, ...extra });
}

function azureUrl(deployment = fake.deployment, apiVersion: string | null = fake.apiVersion): string {
  const query = apiVersion === null ? '' : `?api-version=${apiVersion}`;
  return `${fake.url}/openai/deployments/${deployment}/chat/completions${query}`;
}

/** The fields of raw service answers (errors and completions) that these tests read. */
interface ServiceAnswer {
  error: { message: string; code: unknown; param: unknown };
  choices: { message: { content: string }; logprobs: { content: { top_logprobs: unknown[] }[] } | null }[];
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = { 'api-key': fake.apiKey },
): Promise<{ status: number; json: ServiceAnswer; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as ServiceAnswer, headers: response.headers };
}

async function rejects(body: unknown, status = 400): Promise<ServiceAnswer['error']> {
  const { status: actual, json } = await post(azureUrl(), body);
  expect(actual, JSON.stringify(json)).toBe(status);
  return json.error;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

describe('answers the openai package like the service', () => {
  it('AzureOpenAI with an api key gets a schema-conformant chat.completion with Azure annotations', async () => {
    const completion = await azure().chat.completions.create({
      model: fake.deployment,
      messages: [userMessage()],
      response_format: responseFormat,
    });

    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.model).toBe('gpt-4o-2024-11-20');
    expect(completion.system_fingerprint).toMatch(/^fp_/);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('stop');
    expect(choice.message.refusal).toBeNull();
    expect(JSON.parse(choice.message.content!)).toEqual({ label: 'golden_retriever', weather: 'clear', tags: { red: false, blue: false } });
    expect(choice.logprobs).toBeNull();
    expect((choice as AzureChoice).content_filter_results['violence']).toEqual({ filtered: false, severity: 'safe' });
    expect((completion as AzureCompletion).prompt_filter_results[0]!.content_filter_results['jailbreak']).toEqual({
      filtered: false,
      detected: false,
    });

    const recorded = fake.requests[0]!;
    expect(recorded.path).toBe('/openai/deployments/gpt-4o/chat/completions');
    expect(recorded.query['api-version']).toBe('2024-10-21');
    expect(recorded.headers['api-key']).toBe('test-key');
    expect(recorded.status).toBe(200);
    expect((recorded.body as SentBody).response_format?.json_schema?.name).toBe('classification');
  });

  it('AzureOpenAI with an Entra token provider is accepted through Authorization: Bearer', async () => {
    const client = new AzureOpenAI({
      endpoint: fake.url,
      apiVersion: fake.apiVersion,
      azureADTokenProvider: () => Promise.resolve('test-token'),
      maxRetries: 0,
    });
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [userMessage()], response_format: responseFormat });
    expect(completion.choices).toHaveLength(1);
    expect(fake.requests[0]!.headers['authorization']).toBe('Bearer test-token');
    expect(fake.requests[0]!.headers['api-key']).toBeUndefined();
  });

  it('OpenAI with baseURL ${url}/v1 works with a bearer key and gets no Azure-only fields', async () => {
    const client = new OpenAI({ baseURL: `${fake.url}/v1`, apiKey: fake.bearerToken, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [userMessage()], response_format: responseFormat });
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual(answerFromSchema(schema));
    expect(completion).not.toHaveProperty('prompt_filter_results');
    expect(completion.choices[0]).not.toHaveProperty('content_filter_results');
    expect(fake.requests[0]!.path).toBe('/v1/chat/completions');
  });

  it('chat.completions.parse with a zod v4 response format parses (root $schema allowed, json_schema.type not required)', async () => {
    const Answer = z.object({ label: z.enum(['cat', 'dog']), present: z.boolean(), note: z.string().nullable() });
    fake.setAnswer(() => ({ answer: { label: 'dog', present: true, note: null } }));
    const completion = await azure().chat.completions.parse({
      model: 'gpt-4o',
      messages: [userMessage()],
      response_format: zodResponseFormat(Answer, 'answer'),
    });
    expect(completion.choices[0]!.message.parsed).toEqual({ label: 'dog', present: true, note: null });
    const sent = (fake.requests[0]!.body as SentBody).response_format?.json_schema;
    expect(sent?.schema?.['$schema']).toBeDefined();
    expect(sent).not.toHaveProperty('type');
  });

  it('answerFromSchema follows picks by path and the documented defaults', () => {
    expect(answerFromSchema(schema, { label: 'cat', 'tags.red': true })).toEqual({
      label: 'cat',
      weather: 'clear',
      tags: { red: true, blue: false },
    });
    const mixed: JsonSchemaObject = {
      type: 'object',
      properties: {
        n: { type: 'number' },
        s: { type: ['string', 'null'] },
        list: { type: 'array', items: { type: 'string' } },
        ref: { $ref: '#/$defs/flag' },
      },
      required: ['n', 's', 'list', 'ref'],
      additionalProperties: false,
      $defs: { flag: { type: 'boolean' } },
    };
    expect(answerFromSchema(mixed)).toEqual({ n: 0.9, s: '', list: [], ref: false });
  });
});

describe('logprobs', () => {
  it('value tokens carry ln(confidence), structure is ~certain, top_logprobs gives k alternatives', async () => {
    fake.setAnswer((ctx) => ({
      answer: answerFromSchema(ctx.schema, { label: 'golden_retriever', weather: 'rainy', 'tags.red': true }),
      confidences: { label: 0.62, 'tags.red': 0.8 },
    }));
    const completion = await azure().chat.completions.create({
      model: 'gpt-4o',
      messages: [userMessage()],
      response_format: responseFormat,
      logprobs: true,
      top_logprobs: 3,
    });
    const choice = completion.choices[0]!;
    const tokens = choice.logprobs!.content!;
    const content = choice.message.content!;
    expect(tokens.map((t) => t.token).join('')).toBe(content);
    expect(completion.usage!.completion_tokens).toBe(tokens.length);

    // Reconstruct which characters belong to which value and sum the logprobs of the tokens inside it.
    const valueLogprob = (literal: string): number => {
      const start = content.indexOf(literal);
      let offset = 0;
      const inside: number[] = [];
      for (const t of tokens) {
        if (offset >= start && offset < start + literal.length) inside.push(t.logprob);
        offset += t.token.length;
      }
      return sum(inside);
    };
    expect(valueLogprob('golden_retriever')).toBeCloseTo(Math.log(0.62), 9);
    expect(tokens.filter((t) => 'golden_retriever'.includes(t.token) && t.token.length > 1).length).toBeGreaterThan(1);
    expect(valueLogprob('rainy')).toBeCloseTo(Math.log(0.97), 9);
    expect(valueLogprob('true')).toBeCloseTo(Math.log(0.8), 9);

    const structural = tokens.filter((t) => /^[{}":,[\]]+$/.test(t.token));
    expect(structural.length).toBeGreaterThan(3);
    for (const t of structural) expect(t.logprob).toBe(FORCED_TOKEN_LOGPROB);

    for (const t of tokens) {
      expect(t.top_logprobs).toHaveLength(3);
      expect(t.top_logprobs.map((a) => a.token)).toContain(t.token);
      expect(t.bytes).toEqual([...Buffer.from(t.token)]);
      expect(sum(t.top_logprobs.map((a) => Math.exp(a.logprob)))).toBeLessThanOrEqual(1 + 1e-9);
    }
    // The other boolean holds what `true` left over, so P(red) can be read from either side.
    const redToken = tokens.find((t) => t.token === 'true')!;
    expect(redToken.top_logprobs.find((a) => a.token === 'false')!.logprob).toBeCloseTo(Math.log(0.2), 9);
  });

  it('gives no logprobs unless asked, and no alternatives without top_logprobs', async () => {
    const plain = await azure().chat.completions.create({ model: 'gpt-4o', messages: [userMessage()], response_format: responseFormat });
    expect(plain.choices[0]!.logprobs).toBeNull();
    const bare = await azure().chat.completions.create({ model: 'gpt-4o', messages: [userMessage()], response_format: responseFormat, logprobs: true });
    expect(bare.choices[0]!.logprobs!.content!.every((t) => t.top_logprobs.length === 0)).toBe(true);
  });
});

describe('usage', () => {
  it('prompt_tokens = o200k_base text tokens + chat overhead + GPT-4o image tokens for the image size and detail', async () => {
    // o200k_base: Class|ify| this| image|,| please|! = 7 tokens; one message: 3 + 1 (role `user`); 3 prime the reply.
    const text = 'Classify this image, please!';
    const overhead = 3 + 1 + 3;
    const cases: [number, number, 'low' | 'high' | 'auto', number][] = [
      [1024, 1024, 'high', 765],
      [2048, 4096, 'auto', 1105],
      [4000, 3000, 'high', 765],
      [300, 200, 'high', 255],
      [2048, 4096, 'low', 85],
    ];
    for (const [width, height, detail, expected] of cases) {
      expect(imageTokens(width, height, detail)).toBe(expected);
      const url = await imageDataUrl(width, height, 'jpeg');
      const completion = await azure().chat.completions.create({
        model: 'gpt-4o',
        messages: [userMessage(url, detail, text)],
        response_format: responseFormat,
      });
      expect(completion.usage!.prompt_tokens, `${width}x${height} ${detail}`).toBe(7 + overhead + expected);
      expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);
    }
  });
});

describe('refuses what the service refuses', () => {
  it('routes, api-version, auth and deployment', async () => {
    expect((await post(`${fake.url}/openai/deployments/gpt-4o/completions?api-version=2024-10-21`, validBody())).json).toEqual({
      error: { code: '404', message: 'Resource not found' },
    });
    const v1Other = await post(`${fake.url}/v1/embeddings`, validBody(), { authorization: 'Bearer test-token' });
    expect(v1Other.status).toBe(404);
    expect(v1Other.json.error.message).toBe('Invalid URL (POST /v1/embeddings)');

    const missingVersion = await post(azureUrl('gpt-4o', null), validBody());
    expect([missingVersion.status, missingVersion.json.error.message]).toEqual([404, 'Resource not found']);
    const badVersion = await post(azureUrl('gpt-4o', '2023-01-01'), validBody());
    expect([badVersion.status, badVersion.json.error.code]).toEqual([400, 'BadRequest']);

    const wrongKey = await post(azureUrl(), validBody(), { 'api-key': 'nope' });
    expect([wrongKey.status, wrongKey.json.error.code]).toEqual([401, '401']);
    expect(wrongKey.json.error.message).toMatch(/invalid subscription key/);
    const noAuth = await post(azureUrl(), validBody(), {});
    expect([noAuth.status, noAuth.json.error.message]).toEqual([401, expect.stringMatching(/missing subscription key/)]);
    const wrongToken = await post(azureUrl(), validBody(), { authorization: 'Bearer nope' });
    expect([wrongToken.status, wrongToken.json.error.message]).toEqual([401, expect.stringMatching(/Access token is missing, invalid/)]);
    const v1WrongKey = await post(`${fake.url}/v1/chat/completions`, { ...validBody(), model: 'gpt-4o' }, { authorization: 'Bearer nope' });
    expect([v1WrongKey.status, v1WrongKey.json.error.code]).toEqual([401, 'invalid_api_key']);
    const v1ApiKeyHeader = await post(`${fake.url}/v1/chat/completions`, { ...validBody(), model: 'gpt-4o' }, { 'api-key': 'test-key' });
    expect(v1ApiKeyHeader.status).toBe(401);

    const unknownDeployment = await post(azureUrl('gpt-5'), validBody());
    expect([unknownDeployment.status, unknownDeployment.json.error.code]).toEqual([404, 'DeploymentNotFound']);
    await expect(azure().chat.completions.create({ model: 'gpt-5', messages: [userMessage()] })).rejects.toBeInstanceOf(NotFoundError);
    await expect(azure({ apiKey: 'wrong' }).chat.completions.create({ model: 'gpt-4o', messages: [userMessage()] })).rejects.toBeInstanceOf(
      AuthenticationError,
    );
  });

  it('bodies that are not JSON, unknown arguments, and OpenAI-route model rules', async () => {
    const notJson = await post(azureUrl(), '{"messages": [');
    expect(notJson.status).toBe(400);
    expect(notJson.json.error.message).toMatch(/could not parse the JSON body/);
    expect(await rejects(validBody({ foo: 1 }))).toMatchObject({ message: 'Unrecognized request argument supplied: foo' });
    expect(await rejects(validBody({ stream_options: { include_usage: true } }))).toMatchObject({
      message: 'Unrecognized request argument supplied: stream_options',
    });

    const v1 = `${fake.url}/v1/chat/completions`;
    const bearer = { authorization: 'Bearer test-token' };
    const noModel = await post(v1, validBody(), bearer);
    expect([noModel.status, noModel.json.error.message]).toEqual([400, 'you must provide a model parameter']);
    const unknownModel = await post(v1, validBody({ model: 'gpt-9' }), bearer);
    expect([unknownModel.status, unknownModel.json.error.code]).toEqual([404, 'model_not_found']);
    const dataSources = await post(v1, validBody({ model: 'gpt-4o', data_sources: [] }), bearer);
    expect(dataSources.json.error.message).toBe('Unrecognized request argument supplied: data_sources');
  });

  it('messages: missing, empty, bad role, bad parts, unexpected keys', async () => {
    expect(await rejects({ response_format: responseFormat })).toMatchObject({ param: 'messages', code: 'missing_required_parameter' });
    expect(await rejects({ messages: [] })).toMatchObject({ param: 'messages', code: 'empty_array' });
    expect(await rejects({ messages: [{ role: 'wizard', content: 'hi' }] })).toMatchObject({ param: 'messages[0].role', code: 'invalid_value' });
    expect(await rejects({ messages: [{ role: 'developer', content: 'hi' }] })).toMatchObject({ param: 'messages[0].role' });
    expect(await rejects({ messages: [{ content: 'hi' }] })).toMatchObject({ code: 'missing_required_parameter' });
    expect(await rejects({ messages: [{ role: 'user' }] })).toMatchObject({ param: 'messages[0].content' });
    expect(await rejects({ messages: [{ role: 'user', content: 42 }] })).toMatchObject({ code: 'invalid_type' });
    expect(await rejects({ messages: [{ role: 'user', content: [] }] })).toMatchObject({ code: 'empty_array' });
    expect(await rejects({ messages: [{ role: 'user', content: 'hi', mood: 'happy' }] })).toMatchObject({
      message: expect.stringContaining("'mood' was unexpected"),
    });
    expect(await rejects({ messages: [{ role: 'user', content: [{ type: 'video', video: {} }] }] })).toMatchObject({
      param: 'messages[0].content[0].type',
    });
    expect(await rejects({ messages: [{ role: 'user', content: [{ type: 'text' }] }] })).toMatchObject({ param: 'messages[0].content[0].text' });
    expect(await rejects({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: smallPng } }] }] })).toMatchObject({
      param: 'messages[0].content[0].type',
    });
    expect(await rejects({ messages: [{ role: 'tool', content: 'x' }] })).toMatchObject({ param: 'messages[0].tool_call_id' });
    // A well-formed conversation with every role passes.
    const ok = await post(azureUrl(), {
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'sys' }] },
        userMessage(),
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', content: 'done', tool_call_id: 'c1' },
      ],
    });
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
  });

  it('images: data URLs only, real bytes matching the MIME, at most 20 MB and 10 per request, known detail', async () => {
    const withImage = (url: string, detail?: string) => ({
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: detail === undefined ? { url } : { url, detail } }] }],
    });
    expect(await rejects(withImage('https://example.com/cat.png'))).toMatchObject({ code: 'invalid_image_url' });
    expect(await rejects(withImage('data:text/plain;base64,aGVsbG8='))).toMatchObject({ code: 'invalid_image_format' });
    expect(await rejects(withImage('data:image/bmp;base64,Qk0='))).toMatchObject({ code: 'invalid_image_format' });
    expect(await rejects(withImage('data:image/png;base64,@@not base64@@'))).toMatchObject({ code: 'invalid_value' });
    expect(await rejects(withImage('not a url at all'))).toMatchObject({ code: 'invalid_value' });

    const jpegAsPng = (await imageDataUrl(8, 8, 'jpeg')).replace('data:image/jpeg', 'data:image/png');
    expect((await rejects(withImage(jpegAsPng))).message).toMatch(/says image\/png, the bytes are image\/jpeg/);
    const pngMagicThenGarbage = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]);
    expect(await rejects(withImage(`data:image/png;base64,${pngMagicThenGarbage.toString('base64')}`))).toMatchObject({ code: 'invalid_image' });
    const png = Buffer.from(smallPng.split(',')[1]!, 'base64');
    const truncated = png.subarray(0, Math.floor(png.length / 2));
    expect(await rejects(withImage(`data:image/png;base64,${truncated.toString('base64')}`))).toMatchObject({ code: 'invalid_image' });

    const huge = Buffer.concat([png, Buffer.alloc(20 * 1024 * 1024 + 1 - png.length)]);
    expect(await rejects(withImage(`data:image/png;base64,${huge.toString('base64')}`))).toMatchObject({ code: 'image_too_large' });

    const eleven = { messages: [{ role: 'user', content: Array.from({ length: 11 }, () => ({ type: 'image_url', image_url: { url: smallPng } })) }] };
    expect(await rejects(eleven)).toMatchObject({ code: 'too_many_images' });
    const ten = { messages: [{ role: 'user', content: Array.from({ length: 10 }, () => ({ type: 'image_url', image_url: { url: smallPng } })) }] };
    expect((await post(azureUrl(), ten)).status).toBe(200);

    expect(await rejects(withImage(smallPng, 'medium'))).toMatchObject({ param: 'messages[0].content[0].image_url.detail' });
    expect(await rejects({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: smallPng, size: 3 } }] }] })).toMatchObject({
      code: 'unknown_parameter',
    });
    for (const format of ['gif', 'webp'] as const) {
      const bytes = await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } })[format]().toBuffer();
      expect((await post(azureUrl(), withImage(`data:image/${format};base64,${bytes.toString('base64')}`))).status).toBe(200);
    }
  });

  it('sampling and logprob parameters', async () => {
    expect(await rejects(validBody({ temperature: 2.5 }))).toMatchObject({ param: 'temperature', code: 'decimal_above_max_value' });
    expect(await rejects(validBody({ temperature: -0.1 }))).toMatchObject({ code: 'decimal_below_min_value' });
    expect(await rejects(validBody({ temperature: 'hot' }))).toMatchObject({ code: 'invalid_type' });
    expect(await rejects(validBody({ max_tokens: 0 }))).toMatchObject({ param: 'max_tokens', code: 'integer_below_min_value' });
    expect(await rejects(validBody({ max_tokens: 1.5 }))).toMatchObject({ param: 'max_tokens', code: 'invalid_type' });
    expect(await rejects(validBody({ logprobs: 'yes' }))).toMatchObject({ param: 'logprobs', code: 'invalid_type' });
    expect(await rejects(validBody({ logprobs: true, top_logprobs: 21 }))).toMatchObject({ code: 'integer_above_max_value' });
    expect(await rejects(validBody({ logprobs: true, top_logprobs: -1 }))).toMatchObject({ code: 'integer_below_min_value' });
    expect(await rejects(validBody({ top_logprobs: 2 }))).toMatchObject({ param: 'top_logprobs' });
    expect(await rejects(validBody({ logprobs: false, top_logprobs: 2 }))).toMatchObject({ param: 'top_logprobs' });
    expect(await rejects(validBody({ stop: ['a', 'b', 'c', 'd', 'e'] }))).toMatchObject({ param: 'stop' });
    expect(await rejects(validBody({ stream: true }))).toMatchObject({ code: 'fake_unsupported' });
    const fine = await post(azureUrl(), validBody({ temperature: 0, top_p: 1, max_tokens: 400, logprobs: true, top_logprobs: 20, seed: 7, n: 2 }));
    expect(fine.status, JSON.stringify(fine.json)).toBe(200);
    expect(fine.json.choices).toHaveLength(2);
    expect(fine.json.choices[1]!.logprobs!.content[0]!.top_logprobs).toHaveLength(20);
  });

  it('response_format: type, json_schema name, json_object needs the word json', async () => {
    expect(await rejects(validBody({ response_format: { type: 'xml' } }))).toMatchObject({ param: 'response_format.type' });
    const named = (name: string) => validBody({ response_format: { type: 'json_schema', json_schema: { name, strict: true, schema } } });
    expect(await rejects(named('bad name!'))).toMatchObject({ param: 'response_format.json_schema.name' });
    expect(await rejects(named('x'.repeat(65)))).toMatchObject({ param: 'response_format.json_schema.name' });
    expect((await post(azureUrl(), named('x'.repeat(64)))).status).toBe(200);
    expect(await rejects(validBody({ response_format: { type: 'json_schema' } }))).toMatchObject({ code: 'missing_required_parameter' });
    expect(await rejects(validBody({ response_format: { type: 'json_schema', json_schema: { schema } } }))).toMatchObject({
      param: 'response_format.json_schema.name',
    });
    expect(await rejects(validBody({ response_format: { type: 'json_schema', json_schema: { name: 'a', schema, extra: 1 } } }))).toMatchObject({
      code: 'unknown_parameter',
    });

    const jsonObject = { type: 'json_object' };
    expect((await rejects({ messages: [userMessage()], response_format: jsonObject })).message).toMatch(/must contain the word 'json'/);
    const ok = await post(azureUrl(), { messages: [userMessage(smallPng, 'low', 'Answer in JSON.')], response_format: jsonObject });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.json.choices[0]!.message.content)).toEqual({});
  });

  describe('strict json_schema rules', () => {
    const strict = (s: unknown) => validBody({ response_format: { type: 'json_schema', json_schema: { name: 's', strict: true, schema: s } } });
    const obj = (properties: Record<string, unknown>): Record<string, unknown> => ({
      type: 'object',
      properties,
      required: Object.keys(properties),
      additionalProperties: false,
    });
    const nested = (levels: number): Record<string, unknown> => (levels === 1 ? obj({ leaf: { type: 'string' } }) : obj({ child: nested(levels - 1) }));

    it('root must be an object, not a union', async () => {
      expect((await rejects(strict({ type: 'array', items: { type: 'string' } }))).message).toMatch(/must be a JSON Schema of 'type: "object"'/);
      expect((await rejects(strict({ type: 'object', anyOf: [obj({})], properties: {}, required: [], additionalProperties: false }))).message).toMatch(
        /anyOf/,
      );
    });

    it('every object closed with additionalProperties:false and every property required', async () => {
      expect((await rejects(strict({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }))).message).toMatch(
        /'additionalProperties' is required to be supplied and to be false/,
      );
      const open = obj({ inner: { type: 'object', properties: {}, required: [], additionalProperties: true } });
      expect((await rejects(strict(open))).message).toMatch(/In context=\('properties', 'inner'\), 'additionalProperties'/);
      const missing = { ...obj({ a: { type: 'string' }, b: { type: 'string' } }), required: ['a'] };
      expect((await rejects(strict(missing))).message).toMatch(/Missing 'b'/);
      const extraRequired = { ...obj({ a: { type: 'string' } }), required: ['a', 'z'] };
      expect((await rejects(strict(extraRequired))).message).toMatch(/Extra required key 'z'/);
      expect((await rejects(strict(obj({ list: { type: 'array' } })))).message).toMatch(/array schema missing items/);
      expect((await rejects(strict(obj({ x: { description: 'no type' } })))).message).toMatch(/must have a 'type' key/);
      expect((await rejects(strict(obj({ x: { $ref: '#/$defs/nowhere' } })))).message).toMatch(/could not be resolved/);
    });

    it('documented unsupported keywords are refused in strict mode and accepted without it', async () => {
      const samples: Record<string, [string, unknown]> = {
        minLength: ['string', 1],
        maxLength: ['string', 5],
        pattern: ['string', '^a'],
        format: ['string', 'date-time'],
        minimum: ['number', 0],
        maximum: ['number', 1],
        multipleOf: ['number', 0.5],
        patternProperties: ['object', { '^x': { type: 'string' } }],
        unevaluatedProperties: ['object', false],
        propertyNames: ['object', { pattern: '^a' }],
        minProperties: ['object', 1],
        maxProperties: ['object', 2],
        unevaluatedItems: ['array', false],
        contains: ['array', { type: 'string' }],
        minContains: ['array', 1],
        maxContains: ['array', 2],
        minItems: ['array', 1],
        maxItems: ['array', 3],
        uniqueItems: ['array', true],
      };
      for (const [keyword, [type, value]] of Object.entries(samples)) {
        const base: Record<string, unknown> =
          type === 'object' ? { type, properties: {}, required: [], additionalProperties: false } : type === 'array' ? { type, items: { type: 'string' } } : { type };
        const s = obj({ field: { ...base, [keyword]: value } });
        const error = await rejects(strict(s));
        expect(error.message, keyword).toContain(`In context=('properties', 'field'), '${keyword}' is not permitted.`);
        const loose = await post(azureUrl(), validBody({ response_format: { type: 'json_schema', json_schema: { name: 's', strict: false, schema: s } } }));
        expect(loose.status, keyword).toBe(200);
      }
      expect((await rejects(strict(obj({ x: { type: 'string', default: 'a' } })))).message).toMatch(/'default' is not permitted/);
    });

    it('nesting depth 5, 100 properties, 500 enum values, long large enums', async () => {
      expect((await post(azureUrl(), strict(nested(5)))).status).toBe(200);
      expect((await rejects(strict(nested(6)))).message).toMatch(/nesting depth 6 exceeds the limit of 5/);

      const props = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, { type: 'boolean' }]));
      expect((await post(azureUrl(), strict(obj(props(100))))).status).toBe(200);
      expect((await rejects(strict(obj(props(101))))).message).toMatch(/at most 100 properties/);

      const enumOf = (n: number, width = 3) => ({ type: 'string', enum: Array.from({ length: n }, (_, i) => `v${String(i).padStart(width, '0')}`) });
      expect((await post(azureUrl(), strict(obj({ a: enumOf(250), b: enumOf(250) })))).status).toBe(200);
      expect((await rejects(strict(obj({ a: enumOf(250), b: enumOf(251) })))).message).toMatch(/at most 500 enum values/);
      expect((await post(azureUrl(), strict(obj({ a: enumOf(251, 28) })))).status).toBe(200); // 251 × 29 = 7279 chars
      expect((await rejects(strict(obj({ a: enumOf(251, 30) })))).message).toMatch(/may total at most 7500/); // 251 × 31
    });

    it('anyOf, nullable types, $defs and recursion are supported', async () => {
      const s = {
        ...obj({
          when: { anyOf: [{ type: 'string' }, { type: 'null' }] },
          unit: { type: ['string', 'null'], enum: ['C', 'F', null] },
          node: { $ref: '#/$defs/node' },
        }),
        $defs: { node: obj({ name: { type: 'string' }, children: { type: 'array', items: { $ref: '#/$defs/node' } } }) },
      };
      const ok = await post(azureUrl(), strict(s));
      expect(ok.status, JSON.stringify(ok.json)).toBe(200);
      expect(JSON.parse(ok.json.choices[0]!.message.content)).toEqual({ when: '', unit: 'C', node: { name: '', children: [] } });
    });

    it('strict function tools are held to the same rules', async () => {
      const tool = (parameters: unknown) => validBody({ tools: [{ type: 'function', function: { name: 'f', strict: true, parameters } }] });
      expect(await rejects(tool({ type: 'object', properties: { a: { type: 'string' } } }))).toMatchObject({
        param: 'tools[0].function.parameters',
        code: 'invalid_function_parameters',
      });
      expect((await post(azureUrl(), tool(obj({ a: { type: 'string' } })))).status).toBe(200);
    });
  });
});

describe('faults', () => {
  it('throttle: 429 with Azure body and retry-after-ms / retry-after headers', async () => {
    fake.enqueue({ kind: 'throttle', retryAfterMs: 1500, retryAfterSeconds: 2 });
    const error = await azure()
      .chat.completions.create({ model: 'gpt-4o', messages: [userMessage()] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    const rate = error as RateLimitError;
    expect(rate.status).toBe(429);
    expect(rate.headers.get('retry-after-ms')).toBe('1500');
    expect(rate.headers.get('retry-after')).toBe('2');
    expect(rate.code).toBe('429');
    expect(rate.message).toMatch(/exceeded token rate limit.*Please retry after 2 seconds/);

    fake.enqueue({ kind: 'throttle', retryAfterMs: 250 });
    const onlyMs = await post(azureUrl(), validBody());
    expect([onlyMs.headers.get('retry-after-ms'), onlyMs.headers.get('retry-after')]).toEqual(['250', null]);
    fake.enqueue({ kind: 'throttle', retryAfterSeconds: 3 });
    const onlySeconds = await post(azureUrl(), validBody());
    expect([onlySeconds.headers.get('retry-after-ms'), onlySeconds.headers.get('retry-after')]).toEqual([null, '3']);
    fake.enqueue({ kind: 'throttle' });
    const neither = await post(azureUrl(), validBody());
    expect([neither.headers.get('retry-after-ms'), neither.headers.get('retry-after')]).toEqual(['1000', '1']);
  });

  it('the SDK retry honours retry-after-ms and then gets the normal answer', async () => {
    fake.enqueue({ kind: 'throttle', retryAfterMs: 20 }, { kind: 'server-error', status: 503 });
    const completion = await azure({ maxRetries: 2 }).chat.completions.create({ model: 'gpt-4o', messages: [userMessage()], response_format: responseFormat });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(fake.requests.map((r) => r.status)).toEqual([429, 503, 200]);
    expect(fake.pendingFaults).toBe(0);
  });

  it('server-error: 500, 502, 503', async () => {
    for (const status of [500, 502, 503] as const) {
      fake.enqueue({ kind: 'server-error', status });
      const error = await azure()
        .chat.completions.create({ model: 'gpt-4o', messages: [userMessage()] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InternalServerError);
      expect((error as InternalServerError).status).toBe(status);
    }
    fake.enqueue({ kind: 'server-error' });
    expect((await post(azureUrl(), validBody())).json.error.code).toBe('InternalServerError');
  });

  it('slow: answers after the delay, or times the client out', async () => {
    fake.enqueue({ kind: 'slow', delayMs: 150 });
    const completion = await azure().chat.completions.create({ model: 'gpt-4o', messages: [userMessage()], response_format: responseFormat });
    expect(completion.choices[0]!.finish_reason).toBe('stop');

    fake.enqueue({ kind: 'slow', delayMs: 400 });
    await expect(azure({ timeout: 50 }).chat.completions.create({ model: 'gpt-4o', messages: [userMessage()] })).rejects.toBeInstanceOf(
      APIConnectionTimeoutError,
    );
    // The fake is still healthy afterwards.
    const after = await azure().chat.completions.create({ model: 'gpt-4o', messages: [userMessage()] });
    expect(after.choices).toHaveLength(1);
  });

  it('hang: never answers, and close() ends the request and lets the process go', async () => {
    const own = await startFakeOpenAI();
    own.enqueue({ kind: 'hang' });
    const client = new AzureOpenAI({ endpoint: own.url, apiKey: own.apiKey, apiVersion: own.apiVersion, maxRetries: 0 });
    const pending = client.chat.completions.create({ model: 'gpt-4o', messages: [userMessage()] }).catch((e: unknown) => e);
    for (let i = 0; i < 200 && own.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(own.requests).toHaveLength(1);
    expect(own.requests[0]!.status).toBe(0);
    await own.close();
    expect(await pending).toBeInstanceOf(APIConnectionError);
  });

  it('content-filter-prompt: 400 content_filter with innererror.content_filter_result', async () => {
    fake.enqueue({ kind: 'content-filter-prompt', category: 'hate' });
    const error = await azure()
      .chat.completions.create({ model: 'gpt-4o', messages: [userMessage()] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    const bad = error as BadRequestError;
    expect(bad.code).toBe('content_filter');
    expect(bad.param).toBe('prompt');
    const inner = (bad.error as { innererror: { code: string; content_filter_result: Record<string, unknown> } }).innererror;
    expect(inner.code).toBe('ResponsibleAIPolicyViolation');
    expect(inner.content_filter_result['hate']).toEqual({ filtered: true, severity: 'high' });
    expect(inner.content_filter_result['violence']).toEqual({ filtered: false, severity: 'safe' });
    // An invalid request is still refused for being invalid, not filtered.
    fake.enqueue({ kind: 'content-filter-prompt' });
    expect((await rejects({ messages: [] })).code).toBe('empty_array');
  });

  it('content-filter-finish: 200 with finish_reason content_filter and the category marked', async () => {
    fake.enqueue({ kind: 'content-filter-finish', category: 'sexual' });
    const completion = await azure().chat.completions.create({ model: 'gpt-4o', messages: [userMessage()], response_format: responseFormat });
    const choice = completion.choices[0] as AzureChoice;
    expect(choice.finish_reason).toBe('content_filter');
    expect(choice.content_filter_results['sexual']).toEqual({ filtered: true, severity: 'high' });
    expect(() => JSON.parse(choice.message.content!)).toThrow();

    fake.enqueue({ kind: 'content-filter-finish' });
    const Answer = z.object({ label: z.enum(['cat', 'dog']) });
    await expect(
      azure().chat.completions.parse({ model: 'gpt-4o', messages: [userMessage()], response_format: zodResponseFormat(Answer, 'a') }),
    ).rejects.toBeInstanceOf(ContentFilterFinishReasonError);
  });

  it('length: truncated JSON with finish_reason length; max_tokens truncates too', async () => {
    fake.enqueue({ kind: 'length' });
    const completion = await azure().chat.completions.create({ model: 'gpt-4o', messages: [userMessage()], response_format: responseFormat, logprobs: true });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('length');
    expect(JSON.stringify(answerFromSchema(schema)).startsWith(choice.message.content!)).toBe(true);
    expect(() => JSON.parse(choice.message.content!)).toThrow();
    expect(completion.usage!.completion_tokens).toBe(choice.logprobs!.content!.length);

    const capped = await azure().chat.completions.create({ model: 'gpt-4o', messages: [userMessage()], response_format: responseFormat, max_tokens: 3 });
    expect([capped.choices[0]!.finish_reason, capped.usage!.completion_tokens]).toEqual(['length', 3]);

    fake.enqueue({ kind: 'length' });
    const Answer = z.object({ label: z.enum(['cat', 'dog']) });
    await expect(
      azure().chat.completions.parse({ model: 'gpt-4o', messages: [userMessage()], response_format: zodResponseFormat(Answer, 'a') }),
    ).rejects.toBeInstanceOf(LengthFinishReasonError);
  });

  it('malformed-json, outside-enum, empty-choices, no-logprobs', async () => {
    fake.enqueue({ kind: 'malformed-json' }, { kind: 'outside-enum', value: 'unicorn' }, { kind: 'empty-choices' }, { kind: 'no-logprobs' });
    const ask = () => azure().chat.completions.create({ model: 'gpt-4o', messages: [userMessage()], response_format: responseFormat, logprobs: true });

    const malformed = await ask();
    expect(malformed.choices[0]!.finish_reason).toBe('stop');
    expect(() => JSON.parse(malformed.choices[0]!.message.content!)).toThrow();

    const outside = await ask();
    expect(JSON.parse(outside.choices[0]!.message.content!)).toEqual({ label: 'unicorn', weather: 'clear', tags: { red: false, blue: false } });

    const empty = await ask();
    expect(empty.choices).toEqual([]);

    const noLogprobs = await ask();
    expect(JSON.parse(noLogprobs.choices[0]!.message.content!)).toEqual(answerFromSchema(schema));
    expect(noLogprobs.choices[0]!.logprobs).toBeNull();

    expect(fake.requests.map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });

  it('outside-enum reaches enums inside arrays, even when the answer array is empty', async () => {
    const multi = {
      type: 'object',
      properties: { labels: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } } },
      required: ['labels'],
      additionalProperties: false,
    };
    fake.enqueue({ kind: 'outside-enum' });
    const res = await post(azureUrl(), validBody({ response_format: { type: 'json_schema', json_schema: { name: 'm', strict: true, schema: multi } } }));
    expect(JSON.parse(res.json.choices[0]!.message.content)).toEqual({ labels: ['not_in_enum'] });
  });
});

describe('answer rules and bookkeeping', () => {
  it('a rule that breaks the strict schema gets a 500 that the SDK does not retry', async () => {
    fake.setAnswer(() => ({ answer: { label: 'fish', weather: 'clear', tags: { red: false, blue: false } } }));
    const error = await azure({ maxRetries: 2 })
      .chat.completions.create({ model: 'gpt-4o', messages: [userMessage()], response_format: responseFormat })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as InternalServerError).message).toMatch(/violates the request's strict schema[\s\S]*\$\.label: "fish" is not one of/);
    expect(fake.requests).toHaveLength(1);

    fake.setAnswer(() => {
      throw new Error('boom');
    });
    expect((await post(azureUrl(), validBody())).json.error.message).toMatch(/the answer rule threw: boom/);
  });

  it('the rule sees schema, messages, decoded images and the request index', async () => {
    const seen: { index: number; images: unknown[]; schemaName: unknown; messages: number }[] = [];
    fake.setAnswer((ctx) => {
      const schemaName = (ctx.body as SentBody).response_format?.json_schema?.name;
      seen.push({ index: ctx.requestIndex, images: ctx.images, schemaName, messages: ctx.messages.length });
      return { answer: answerFromSchema(ctx.schema, { label: 'cat' }) };
    });
    fake.enqueue({ kind: 'server-error' });
    await post(azureUrl(), validBody());
    const url = await imageDataUrl(640, 480, 'jpeg');
    const res = await post(azureUrl(), validBody({ messages: [userMessage(url, 'high')] }));
    expect(JSON.parse(res.json.choices[0]!.message.content).label).toBe('cat');
    expect(seen).toEqual([
      {
        index: 1,
        images: [{ mime: 'image/jpeg', bytes: Buffer.from(url.split(',')[1]!, 'base64').length, width: 640, height: 480, detail: 'high' }],
        schemaName: 'classification',
        messages: 1,
      },
    ]);
  });

  it('records every request with its status and error, and reset clears requests, faults and rule', async () => {
    fake.setAnswer((ctx) => ({ answer: answerFromSchema(ctx.schema, { label: 'bird' }) }));
    fake.enqueue({ kind: 'throttle' }, { kind: 'throttle' });
    await post(azureUrl(), validBody());
    await post(azureUrl(), { nonsense: true }, { 'api-key': 'bad' });
    expect(fake.requests.map((r) => [r.method, r.status])).toEqual([
      ['POST', 429],
      ['POST', 401],
    ]);
    expect(fake.requests[0]!.error).toMatch(/exceeded token rate limit/);
    expect(fake.requests[1]!.body).toEqual({ nonsense: true });
    expect(fake.pendingFaults).toBe(1); // the 401 never reached the deployment, so it took no fault

    fake.reset();
    expect([fake.requests.length, fake.pendingFaults]).toEqual([0, 0]);
    const res = await post(azureUrl(), validBody());
    expect(JSON.parse(res.json.choices[0]!.message.content).label).toBe('golden_retriever');
  });
});

describe("GPT-4o's output limit and the order of checks", () => {
  it('refuses max_tokens and max_completion_tokens above 16,384 with the 400 Azure answers, and accepts 16,384', async () => {
    for (const param of ['max_tokens', 'max_completion_tokens'] as const) {
      const over = await post(azureUrl(), validBody({ [param]: 16_385 }));
      expect(over.status).toBe(400);
      expect(over.json.error).toEqual({
        message: `${param} is too large: 16385. This model supports at most 16384 completion tokens, whereas you provided 16385.`,
        type: 'invalid_request_error',
        param,
        code: 'invalid_value',
      });
      expect((await post(azureUrl(), validBody({ [param]: 16_384 }))).status).toBe(200);
    }
    const error = await azure()
      .chat.completions.create({ model: 'gpt-4o', messages: [userMessage()], max_tokens: 32_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).param).toBe('max_tokens');
  });

  it('validates a request before it draws a fault: a bad request gets its 400 and the queued fault waits for the next valid one', async () => {
    fake.enqueue({ kind: 'throttle', retryAfterMs: 10 }, { kind: 'server-error', status: 500 });
    const tooMany = await post(azureUrl(), validBody({ max_tokens: 100_000 }));
    expect([tooMany.status, tooMany.json.error.param]).toEqual([400, 'max_tokens']);
    const unknownField = await post(azureUrl(), validBody({ frobnicate: true }));
    expect([unknownField.status, unknownField.json.error.message]).toEqual([400, 'Unrecognized request argument supplied: frobnicate']);
    expect(fake.pendingFaults).toBe(2);
    expect((await post(azureUrl(), validBody())).status).toBe(429);
    expect((await post(azureUrl(), validBody())).status).toBe(500);
    expect((await post(azureUrl(), validBody())).status).toBe(200);
    expect(fake.pendingFaults).toBe(0);
  });

  it('a fault plan is not consulted for a request the service would refuse', async () => {
    const asked: number[] = [];
    fake.setFaultPlan((i) => {
      asked.push(i);
      return { kind: 'server-error', status: 503 };
    });
    expect((await post(azureUrl(), validBody({ temperature: 5 }))).status).toBe(400);
    expect(asked).toEqual([]);
    expect((await post(azureUrl(), validBody())).status).toBe(503);
    expect(asked).toEqual([0]);
  });
});
