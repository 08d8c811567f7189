/** Several images per request: one prompt and schema for the group, answers keyed per image, an unusable or unsure answer asked again alone. */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';

import type { Classifier, ClassifyInput, ModelClassification } from '../../shared/model';
import { MultiImageClassifier } from '../../shared/model/multiImageClassifier';
import { buildMultiImageRequest, parseMultiImageAnswer } from '../../shared/model/multiImageRequest';
import type { PreprocessedImage } from '../../shared/preprocess/preprocessedImage';
import type { LabelProfile } from '../../shared/profiles/profileSchema';
import { profileSchema } from '../../shared/profiles/profileSchema';
import { validateStrictSchema } from '../support/fakeOpenAI/strictSchema';

const dogs: LabelProfile = {
  name: 'dogs',
  version: '1',
  kind: 'single-label',
  prompt: 'Which breed?',
  detail: 'low',
  confidenceThreshold: 0.6,
  imagesPerRequest: 4,
  labels: [{ name: 'beagle' }, { name: 'pug' }, { name: 'golden retriever', description: 'long golden coat' }],
};

function image(i: number): PreprocessedImage {
  return { jpeg: Buffer.from([0xff, 0xd8, 0xff, i]), detail: 'low', width: 64, height: 48, estimatedImageTokens: 85, original: { width: 64, height: 48, format: 'jpeg', sha256: `sha-${i}`, bytes: 4 } };
}

function completion(content: string, finish: 'stop' | 'length' = 'stop'): Record<string, unknown> {
  return { id: 'c', object: 'chat.completion', created: 0, model: 'gpt-4o-2024-11-20', choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: finish, logprobs: null }], usage: { prompt_tokens: 400, completion_tokens: 40, total_tokens: 440 } };
}

/** An OpenAI client whose every request is answered by `answer` (nothing leaves the process); the bodies are kept. */
function client(answer: (body: Record<string, unknown>) => Record<string, unknown> | number): { client: OpenAI; bodies: Record<string, unknown>[] } {
  const bodies: Record<string, unknown>[] = [];
  const fetchImpl: typeof fetch = (_url, init) => {
    const body = JSON.parse(typeof init?.body === 'string' ? init.body : '{}') as Record<string, unknown>;
    bodies.push(body);
    const r = answer(body);
    return Promise.resolve(typeof r === 'number' ? new Response(JSON.stringify({ error: { message: 'no', type: 'invalid_request_error', code: null } }), { status: r, headers: { 'content-type': 'application/json', 'x-should-retry': 'false' } }) : new Response(JSON.stringify(r), { status: 200, headers: { 'content-type': 'application/json' } }));
  };
  return { client: new OpenAI({ baseURL: 'http://model.invalid/v1', apiKey: 'k', maxRetries: 0, fetch: fetchImpl }), bodies };
}

/** The single-image path: answers 'pug' at 0.9 and says which images it was asked about. */
function single(): Classifier & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    info: { provider: 'azure-openai', deployment: 'gpt-4o', apiVersion: '2024-10-21' },
    supportedKinds: ['single-label', 'multi-label', 'attributes'],
    classify(input: ClassifyInput): Promise<ModelClassification> {
      asked.push(input.image.original.sha256);
      return Promise.resolve({ result: { kind: 'single-label', label: 'pug', confidence: 0.9 }, confidence: 0.9, confidenceSource: 'logprobs', usage: { promptTokens: 300, completionTokens: 10, costUsd: 0.001 }, model: { provider: 'azure-openai', deployment: 'gpt-4o', apiVersion: '2024-10-21', reportedModel: 'gpt-4o' }, calls: 1 });
    },
  };
}

function classifier(c: OpenAI, s: Classifier): MultiImageClassifier {
  return new MultiImageClassifier({ client: c, info: s.info, model: 'gpt-4o', prices: { 'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 } }, single: s, windowMs: 5 });
}

describe('buildMultiImageRequest', () => {
  it('sends the rules, prompt and label enum once, numbers the images, and keys a strict answer per image', () => {
    const r = buildMultiImageRequest(dogs, [image(1), image(2), image(3)], { model: 'gpt-4o' });
    const text = JSON.stringify(r);
    expect(text.split('"beagle"')).toHaveLength(2);
    const user = r.messages[1]?.content as { type: string; text?: string }[];
    expect(user.map((p) => p.type)).toEqual(['text', 'text', 'image_url', 'text', 'image_url', 'text', 'image_url']);
    expect(user.filter((p) => p.type === 'text').map((p) => p.text)).toEqual([expect.stringContaining('long golden coat'), 'Image 1:', 'Image 2:', 'Image 3:']);
    const format = r.response_format as unknown as { json_schema: { schema: { required: string[] } } };
    expect(format.json_schema.schema.required).toEqual(['1', '2', '3']);
    // The fake applies Azure's strict-mode rules; the schema passes them.
    expect(() => validateStrictSchema(format.json_schema.schema, { kind: 'response_format', param: 'response_format', name: 'dogs' })).not.toThrow();
    expect(r.max_tokens).toBeGreaterThan(3 * 10);
  });

  it('parses each image under its key; a missing key or a label outside the set fails that image only', () => {
    const parsed = parseMultiImageAnswer(dogs, JSON.stringify({ '1': { label: 'beagle', confidence: 0.9 }, '3': { label: 'poodle', confidence: 0.9 } }), 3);
    expect(parsed.map((p) => (p.ok ? p.result : p.reason))).toEqual([{ kind: 'single-label', label: 'beagle', confidence: 0.9 }, 'missing_field', 'label_outside_set']);
  });

  it('is a profile option from 1 to 10, absent by default', () => {
    const base = { name: 'x', version: '1', kind: 'single-label', prompt: 'p', detail: 'low', confidenceThreshold: 0.5, labels: [{ name: 'a' }, { name: 'b' }] };
    expect(profileSchema.safeParse(base).success).toBe(true);
    expect(profileSchema.safeParse({ ...base, imagesPerRequest: 10 }).success).toBe(true);
    expect(profileSchema.safeParse({ ...base, imagesPerRequest: 11 }).success).toBe(false);
    expect(profileSchema.safeParse({ ...base, imagesPerRequest: 0 }).success).toBe(false);
  });
});

describe('MultiImageClassifier', () => {
  const input = (i: number): ClassifyInput => ({ image: image(i), profile: dogs });

  it('answers concurrent images with one request and shares its cost; a missing or unsure answer is asked again alone', async () => {
    const s = single();
    const { client: c, bodies } = client(() => completion(JSON.stringify({ '1': { label: 'beagle', confidence: 0.95 }, '2': { label: 'pug', confidence: 0.3 }, '4': { label: 'pug', confidence: 0.9 } })));
    const m = classifier(c, s);
    const [a, b, missing, d] = await Promise.all([1, 2, 3, 4].map((i) => m.classify(input(i))));
    expect(bodies).toHaveLength(1);
    expect(a).toMatchObject({ result: { label: 'beagle' }, confidence: 0.95, confidenceSource: 'self-reported', calls: 1, usage: { promptTokens: 100, completionTokens: 10 } });
    expect(a?.usage.costUsd).toBeCloseTo((400 * 2.5 + 40 * 10) / 1e6 / 4, 12);
    expect(d).toMatchObject({ result: { label: 'pug' }, calls: 1 });
    // Image 2 was unsure (0.3 < 0.6) and image 3 had no answer: each asked alone, paying its share plus its own call.
    expect(s.asked.sort()).toEqual(['sha-2', 'sha-3']);
    expect(b).toMatchObject({ confidenceSource: 'logprobs', calls: 2, usage: { promptTokens: 400 } });
    expect(missing).toMatchObject({ calls: 2 });
  });

  it('asks every image alone when the group request fails or is cut off, and leaves the service path (attempt hooks) single', async () => {
    const s = single();
    const failing = classifier(client(() => 400).client, s);
    await Promise.all([1, 2].map((i) => failing.classify(input(i))));
    expect(s.asked.sort()).toEqual(['sha-1', 'sha-2']);

    const cut = single();
    const cutOff = client(() => completion('{"1":{"label":"be', 'length'));
    const cutClassifier = classifier(cutOff.client, cut);
    await Promise.all([5, 6].map((i) => cutClassifier.classify(input(i))));
    expect(cutOff.bodies).toHaveLength(1);
    expect(cut.asked.sort()).toEqual(['sha-5', 'sha-6']);

    const gated = single();
    const { client: c, bodies } = client(() => completion('{}'));
    await classifier(c, gated).classify({ ...input(7), attempts: { deadlineAt: Date.now() + 60_000, beforeAttempt: () => Promise.resolve(), notBilled: () => undefined } });
    expect(bodies).toHaveLength(0);
    expect(gated.asked).toEqual(['sha-7']);
  });
});
