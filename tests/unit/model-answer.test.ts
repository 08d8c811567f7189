import { APIConnectionTimeoutError, APIUserAbortError, BadRequestError, InternalServerError, RateLimitError } from 'openai';
import { describe, expect, it } from 'vitest';

import { DEFAULT_PRICES } from '../../shared/config';
import { isPermanentError, isTransientError } from '../../shared/errors';
import type { TokenLogprob } from '../../shared/model';
import { buildMessages, buildResponseFormat, confidenceFromLogprobs, costUsd, mapModelError, maxTokensFor, parseAnswer } from '../../shared/model';
import type { PreprocessedImage } from '../../shared/preprocess/preprocessedImage';
import type { Profile } from '../../shared/profiles/profileSchema';

const base = { version: '1', prompt: 'What is in the photo?', detail: 'low', confidenceThreshold: 0.7 } as const;

const pets: Profile = {
  ...base,
  name: 'pets',
  kind: 'single-label',
  labels: [{ name: 'cat', description: 'a domestic cat' }, { name: 'catfish' }, { name: 'golden retriever' }],
};

const tags: Profile = {
  ...base,
  name: 'tags',
  kind: 'multi-label',
  labels: [{ name: 'cat' }, { name: 'dog' }, { name: 'outdoor', description: 'taken outside' }],
};

const scene: Profile = {
  ...base,
  name: 'scene',
  kind: 'attributes',
  attributes: [
    { name: 'weather', description: 'the sky and road surface', labels: [{ name: 'clear' }, { name: 'rainy' }, { name: 'partly cloudy' }] },
    { name: 'timeofday', labels: [{ name: 'daytime' }, { name: 'night' }, { name: 'dawn/dusk' }] },
  ],
};

const image: PreprocessedImage = {
  jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]),
  detail: 'high',
  width: 768,
  height: 512,
  estimatedImageTokens: 425,
  original: { width: 1536, height: 1024, format: 'png', sha256: 'ab'.repeat(32), bytes: 1234 },
};

/** Tokens for a test: each piece with its probability; pieces must spell the JSON exactly. */
function tokens(...pieces: [string, number][]): TokenLogprob[] {
  return pieces.map(([token, p]) => ({ token, logprob: Math.log(p), bytes: null }));
}

/** Walks a JSON schema and collects every object node. */
function objectNodes(schema: unknown): Record<string, unknown>[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as Record<string, unknown>;
  const children = Object.values(node).flatMap((v) => (typeof v === 'object' && v !== null ? objectNodes(v) : []));
  return node['type'] === 'object' ? [node, ...children] : children;
}

describe('buildResponseFormat', () => {
  it('is a strict json_schema whose enum is the profile labels (single-label)', () => {
    const f = buildResponseFormat(pets);
    expect(f.type).toBe('json_schema');
    expect(f.json_schema).toMatchObject({ name: 'pets', strict: true });
    expect(f.json_schema.schema).toMatchObject({
      type: 'object',
      properties: { label: { type: 'string', enum: ['cat', 'catfish', 'golden retriever'] }, confidence: { type: 'number' } },
      required: ['label', 'confidence'],
      additionalProperties: false,
    });
  });

  it('gives every multi-label label its own required boolean', () => {
    const schema = buildResponseFormat(tags).json_schema.schema as { properties: { labels: Record<string, unknown> } };
    expect(schema.properties.labels).toEqual({
      type: 'object',
      properties: { cat: { type: 'boolean' }, dog: { type: 'boolean' }, outdoor: { type: 'boolean' } },
      required: ['cat', 'dog', 'outdoor'],
      additionalProperties: false,
    });
  });

  it('has one enum per attribute and follows the strict-mode rules everywhere', () => {
    const schema = buildResponseFormat(scene).json_schema.schema;
    expect(schema).toMatchObject({
      properties: { weather: { enum: ['clear', 'rainy', 'partly cloudy'] }, timeofday: { enum: ['daytime', 'night', 'dawn/dusk'] } },
    });
    for (const p of [pets, tags, scene]) {
      const s = buildResponseFormat(p).json_schema.schema;
      const nodes = objectNodes(s);
      expect(nodes.length).toBeGreaterThan(0);
      for (const node of nodes) {
        expect(node['additionalProperties']).toBe(false);
        expect(node['required']).toEqual(Object.keys(node['properties'] as object));
      }
      expect(JSON.stringify(s)).not.toMatch(/"(minimum|maximum|pattern|minItems|maxItems|minLength|maxLength|format)"/);
    }
  });

  it('renames the self-estimate when an attribute is called confidence', () => {
    const p: Profile = { ...base, name: 'odd', kind: 'attributes', attributes: [{ name: 'confidence', labels: [{ name: 'high' }, { name: 'low' }] }] };
    const schema = buildResponseFormat(p).json_schema.schema as { properties: Record<string, { type: string }> };
    expect(schema.properties['confidence']?.type).toBe('string');
    expect(schema.properties['_confidence']?.type).toBe('number');
    expect(parseAnswer(p, '{"confidence":"low","_confidence":0.4}')).toMatchObject({ ok: true, selfReportedConfidence: 0.4 });
  });
});

describe('buildMessages', () => {
  it('sends the rules, the prompt with the label descriptions (names only in the schema), and the image last as a data URL with its detail', () => {
    const [system, user] = buildMessages(pets, image);
    expect(system?.role).toBe('system');
    expect(system?.content).toMatch(/only with labels from the given lists/i);
    expect(system?.content).toMatch(/calibrated/i);
    expect(user?.role).toBe('user');
    const parts = user?.content as { type: string; text?: string; image_url?: { url: string; detail: string } }[];
    const text = parts.find((p) => p.type === 'text')?.text ?? '';
    expect(text).toContain(pets.prompt);
    // A label without a description is named once, by the response format's enum: the prompt does not repeat it.
    expect(text).not.toContain('golden retriever');
    expect(text).toContain('"cat": a domestic cat');
    expect(parts.at(-1)?.type).toBe('image_url');
    const img = parts.filter((p) => p.type === 'image_url');
    expect(img).toEqual([{ type: 'image_url', image_url: { url: `data:image/jpeg;base64,${image.jpeg.toString('base64')}`, detail: 'high' } }]);
  });

  it('describes attributes that have a description, leaving their label names to the schema', () => {
    const [, user] = buildMessages(scene, { ...image, detail: 'low' });
    const parts = user?.content as { type: string; text?: string; image_url?: { detail: string } }[];
    const text = parts[0]?.text ?? '';
    expect(text).toContain('"weather": the sky and road surface');
    expect(text).not.toContain('partly cloudy');
    expect(text).not.toContain('timeofday');
    expect(parts[1]?.image_url?.detail).toBe('low');
  });
});

describe('maxTokensFor', () => {
  it('is small for a short label list yet above the longest answer at a generous 1 token per 3 bytes', () => {
    const longest = '{"label":"golden retriever","confidence":0.12345678901234568}';
    const n = maxTokensFor(pets);
    expect(n).toBeLessThanOrEqual(100);
    expect(n).toBeGreaterThanOrEqual(Math.ceil(longest.length / 3));
  });

  it('grows with the longest label and with the number of multi-label labels', () => {
    const long: Profile = { ...pets, labels: [...pets.labels, { name: 'x'.repeat(100) }] };
    expect(maxTokensFor(long)).toBeGreaterThan(maxTokensFor(pets) + 25);
    const many: Profile = { ...tags, labels: Array.from({ length: 50 }, (_, i) => ({ name: `label-${i}` })) };
    expect(maxTokensFor(many)).toBeGreaterThan(50 * 3);
    expect(maxTokensFor(many)).toBeLessThan(2000);
  });
});

describe('parseAnswer', () => {
  it('returns the result with the self-reported confidence on each decision', () => {
    expect(parseAnswer(pets, '{"label":"catfish","confidence":0.6}')).toEqual({
      ok: true,
      result: { kind: 'single-label', label: 'catfish', confidence: 0.6 },
      selfReportedConfidence: 0.6,
    });
    expect(parseAnswer(tags, '{"labels":{"cat":true,"dog":false,"outdoor":true},"confidence":0.9}')).toEqual({
      ok: true,
      result: { kind: 'multi-label', labels: [{ label: 'cat', confidence: 0.9 }, { label: 'outdoor', confidence: 0.9 }] },
      selfReportedConfidence: 0.9,
    });
    expect(parseAnswer(scene, '{"weather":"rainy","timeofday":"night","confidence":0.5}')).toMatchObject({
      ok: true,
      result: { kind: 'attributes', attributes: { weather: { label: 'rainy', confidence: 0.5 }, timeofday: { label: 'night', confidence: 0.5 } } },
    });
  });

  it('treats a missing or out-of-range self-estimate as no confidence, not as a bad answer', () => {
    expect(parseAnswer(pets, '{"label":"cat"}')).toMatchObject({ ok: true, selfReportedConfidence: null, result: { confidence: null } });
    expect(parseAnswer(pets, '{"label":"cat","confidence":95}')).toMatchObject({ ok: true, selfReportedConfidence: null });
  });

  it('fails with a typed reason for bad JSON, labels outside the set and missing fields', () => {
    expect(parseAnswer(pets, '{"label":"cat"')).toMatchObject({ ok: false, reason: 'invalid_json' });
    expect(parseAnswer(pets, '{"label":"unicorn","confidence":0.9}')).toMatchObject({ ok: false, reason: 'label_outside_set', message: expect.stringContaining('unicorn') });
    expect(parseAnswer(tags, '{"labels":{"cat":true,"dog":false,"outdoor":true,"horse":true},"confidence":0.9}')).toMatchObject({
      ok: false,
      reason: 'label_outside_set',
      message: expect.stringContaining('horse'),
    });
    expect(parseAnswer(tags, '{"labels":{"cat":true,"dog":false},"confidence":0.9}')).toMatchObject({ ok: false, reason: 'missing_field', message: expect.stringContaining('labels.outdoor') });
    expect(parseAnswer(scene, '{"weather":"clear","confidence":0.9}')).toMatchObject({ ok: false, reason: 'missing_field', message: expect.stringContaining('timeofday') });
    expect(parseAnswer(pets, '["cat"]')).toMatchObject({ ok: false, reason: 'invalid_answer' });
  });
});

describe('confidenceFromLogprobs', () => {
  it('single-label: the joint probability of every token of a value that spans several tokens', () => {
    const content = '{"label":"golden retriever","confidence":0.9}';
    const t = tokens(['{"', 1], ['label', 1], ['":"', 1], ['golden', 0.8], [' retriever', 0.9], ['","', 1], ['confidence', 1], ['":', 1], ['0', 1], ['.', 1], ['9', 0.3], ['}', 1]);
    const r = confidenceFromLogprobs(pets, content, t);
    expect(r?.confidence).toBeCloseTo(0.72, 10);
    expect(r?.result).toEqual({ kind: 'single-label', label: 'golden retriever', confidence: r?.confidence });
  });

  it('counts the closing quote, where the model chooses between "cat" and "catfish"', () => {
    const content = '{"label":"cat","confidence":1}';
    const t = tokens(['{"label":"', 1], ['cat', 0.9], ['"', 0.5], [',"confidence":', 1], ['1', 1], ['}', 1]);
    expect(confidenceFromLogprobs(pets, content, t)?.confidence).toBeCloseTo(0.45, 10);
  });

  it('attributes: a token that merges the quote with the value counts, and the overall is the least confident field', () => {
    const content = '{"weather":"rainy","timeofday":"dawn/dusk","confidence":0.8}';
    const t = tokens(['{"', 1], ['weather', 1], ['":', 1], ['"rainy', 0.6], ['","', 1], ['timeofday', 1], ['":"', 1], ['dawn', 0.95], ['/d', 1], ['usk', 1], ['","', 1], ['confidence', 1], ['":', 1], ['0.8', 1], ['}', 1]);
    const r = confidenceFromLogprobs(scene, content, t);
    expect(r?.result).toMatchObject({ kind: 'attributes', attributes: { weather: { label: 'rainy' }, timeofday: { label: 'dawn/dusk' } } });
    const attrs = r?.result.kind === 'attributes' ? r.result.attributes : {};
    expect(attrs['weather']?.confidence).toBeCloseTo(0.6, 10);
    expect(attrs['timeofday']?.confidence).toBeCloseTo(0.95, 10);
    expect(r?.confidence).toBeCloseTo(0.6, 10);
  });

  it('multi-label: P(true) for present labels, P(false) of absent ones still bounds the overall', () => {
    const content = '{"labels":{"cat":true,"dog":false,"outdoor":true},"confidence":0.9}';
    const t = tokens(['{"', 1], ['labels', 1], ['":{"', 1], ['cat', 1], ['":true', 0.9], [',"', 1], ['dog', 1], ['":', 1], ['false', 0.7], [',"', 1], ['outdoor', 1], ['":', 1], ['true', 0.99], ['},"', 1], ['confidence', 1], ['":', 1], ['0.9', 1], ['}', 1]);
    const r = confidenceFromLogprobs(tags, content, t);
    expect(r?.result.kind).toBe('multi-label');
    const labels = r?.result.kind === 'multi-label' ? r.result.labels : [];
    expect(labels.map((d) => d.label)).toEqual(['cat', 'outdoor']);
    expect(labels[0]?.confidence).toBeCloseTo(0.9, 10);
    expect(labels[1]?.confidence).toBeCloseTo(0.99, 10);
    expect(r?.confidence).toBeCloseTo(0.7, 10);
  });

  it('lines tokens up by their UTF-8 bytes when a token splits a character', () => {
    const cafe: Profile = { ...pets, labels: [{ name: 'café' }, { name: 'bar' }] };
    const content = '{"label":"café","confidence":1}';
    const t: TokenLogprob[] = [
      { token: '{"label":"caf', logprob: Math.log(0.5), bytes: [...Buffer.from('{"label":"caf')] },
      { token: '\\xc3', logprob: 0, bytes: [0xc3] },
      { token: '\\xa9', logprob: Math.log(0.8), bytes: [0xa9] },
      { token: '","confidence":1}', logprob: 0, bytes: [...Buffer.from('","confidence":1}')] },
    ];
    expect(confidenceFromLogprobs(cafe, content, t)?.confidence).toBeCloseTo(0.4, 10);
  });

  it('gives up (null) rather than guess when the tokens do not spell the content or a decision is absent', () => {
    const content = '{"label":"cat","confidence":1}';
    expect(confidenceFromLogprobs(pets, content, tokens(['{"label":"dog","confidence":1}', 0.9]))).toBeNull();
    expect(confidenceFromLogprobs(pets, content, tokens(['{"label":"cat"', 0.9]))).toBeNull();
    expect(confidenceFromLogprobs(pets, content, [])).toBeNull();
    expect(confidenceFromLogprobs(pets, '{"labels":"cat"}', tokens(['{"labels":"cat"}', 0.9]))).toBeNull();
    expect(confidenceFromLogprobs(pets, '{"label":"cat","label":"dog"}', tokens(['{"label":"cat","label":"dog"}', 0.9]))).toBeNull();
  });
});

describe('costUsd', () => {
  const usage = { promptTokens: 1_000_000, completionTokens: 100_000 };

  it('prices by the longest matching prefix of the reported model name', () => {
    expect(costUsd(usage, 'gpt-4o-2024-11-20', DEFAULT_PRICES)).toBeCloseTo(2.5 + 1, 10);
    expect(costUsd(usage, 'gpt-4o-mini-2024-07-18', DEFAULT_PRICES)).toBeCloseTo(0.15 + 0.06, 10);
  });

  it('falls back to the deployment name, and is null (not 0) when nothing matches', () => {
    expect(costUsd(usage, null, DEFAULT_PRICES, 'gpt-4o-mini')).toBeCloseTo(0.21, 10);
    expect(costUsd(usage, 'llava:13b', DEFAULT_PRICES, 'my-deployment')).toBeNull();
  });
});

describe('mapModelError', () => {
  const headers = (h: Record<string, string>) => new Headers(h);

  it('429 is transient model_throttled with the server wait from retry-after-ms or retry-after', () => {
    const a = mapModelError(new RateLimitError(429, { code: '429', message: 'slow down' }, undefined, headers({ 'retry-after-ms': '1500', 'retry-after': '9' })));
    expect(isTransientError(a) && a.code).toBe('model_throttled');
    expect(a.retryAfterMs).toBe(1500);
    expect(mapModelError(new RateLimitError(429, undefined, undefined, headers({ 'retry-after': '2' }))).retryAfterMs).toBe(2000);
  });

  it('5xx, timeouts and caller aborts are transient; our own errors pass through', () => {
    expect(mapModelError(new InternalServerError(503, undefined, undefined, headers({}))).code).toBe('model_unavailable');
    const t = mapModelError(new APIConnectionTimeoutError());
    expect(isTransientError(t) && t.code).toBe('model_timeout');
    expect(mapModelError(new APIUserAbortError())).toMatchObject({ kind: 'transient', code: 'model_timeout', details: { aborted: true } });
    expect(mapModelError(t)).toBe(t);
  });

  it('recognises openai errors from a duplicate copy of the package by class name', () => {
    class APIConnectionTimeoutError extends Error {}
    expect(mapModelError(new APIConnectionTimeoutError('Request timed out.')).code).toBe('model_timeout');
  });

  it('400 content filter is permanent with the filtered categories; image problems are invalid_image', () => {
    const filtered = mapModelError(
      new BadRequestError(
        400,
        {
          code: 'content_filter',
          message: 'The response was filtered due to the prompt triggering Azure OpenAI content management policy.',
          innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: { hate: { filtered: false, severity: 'safe' }, violence: { filtered: true, severity: 'high' } } },
        },
        undefined,
        headers({}),
      ),
    );
    expect(isPermanentError(filtered) && filtered.code).toBe('content_filtered');
    expect(filtered.details?.['categories']).toEqual(['violence']);
    expect(mapModelError(new BadRequestError(400, { code: 'BadRequest', message: 'Invalid image data.' }, undefined, headers({}))).code).toBe('invalid_image');
    expect(mapModelError(new BadRequestError(400, { code: 'invalid_image_format', message: 'You uploaded an unsupported image.' }, undefined, headers({}))).code).toBe('invalid_image');
    const other = mapModelError(new BadRequestError(400, { code: 'invalid_request_error', message: 'max_tokens is too large' }, undefined, headers({})));
    expect(isPermanentError(other) && other.code).toBe('model_bad_request');
  });
});
