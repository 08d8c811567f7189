/** Answers of a multi-image Batch line split per image: each its own, a missing or unsure one asked again alone. */
import type { ChatCompletion } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';

import { BatchAnswerClassifier } from '../../shared/batch/BatchAnswerClassifier';
import { groupCustomId, groupMembers } from '../../shared/batch/groupCustomId';
import type { BatchLineResult } from '../../shared/batch/parseBatchOutput';
import type { Classifier, ClassifyInput, ModelClassification } from '../../shared/model';
import type { PreprocessedImage } from '../../shared/preprocess/preprocessedImage';
import type { LabelProfile } from '../../shared/profiles/profileSchema';

const dogs: LabelProfile = { name: 'dogs', version: '1', kind: 'single-label', prompt: 'Which breed?', detail: 'low', confidenceThreshold: 0.6, imagesPerRequest: 3, labels: [{ name: 'beagle' }, { name: 'pug' }] };
const prices = { 'gpt-4o': { inputPerMTok: 1.25, outputPerMTok: 5, cachedInputPerMTok: 1.25 } };
const sha = (c: string): string => c.repeat(64);

function image(s: string): PreprocessedImage {
  return { jpeg: Buffer.from([0xff, 0xd8]), detail: 'low', width: 64, height: 48, estimatedImageTokens: 85, original: { width: 64, height: 48, format: 'jpeg', sha256: s, bytes: 2 } };
}

function completion(content: string): ChatCompletion {
  return { id: 'c', object: 'chat.completion', created: 0, model: 'gpt-4o-2024-11-20', choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 600, completion_tokens: 30, total_tokens: 630 } };
}

function online(): Classifier & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    info: { provider: 'azure-openai', deployment: 'gpt-4o', apiVersion: 'v' },
    supportedKinds: ['single-label'],
    classify(input: ClassifyInput): Promise<ModelClassification> {
      asked.push(input.image.original.sha256);
      return Promise.resolve({ result: { kind: 'single-label', label: 'pug', confidence: 0.9 }, confidence: 0.9, confidenceSource: 'logprobs', usage: { promptTokens: 300, completionTokens: 10, costUsd: 0.001 }, model: { provider: 'azure-openai', deployment: 'gpt-4o', apiVersion: 'v', reportedModel: 'gpt-4o' }, calls: 1 });
    },
  };
}

describe('BatchAnswerClassifier with multi-image lines', () => {
  it('names the images of a line in its custom_id, and splits its answer per image; a missing or unsure answer goes online alone', async () => {
    const ids = [sha('a'), sha('b'), sha('c'), sha('d')];
    const id = groupCustomId(ids.slice(0, 3));
    expect(id.length).toBeLessThan(64);
    expect(groupMembers(id)).toEqual(ids.slice(0, 3).map((s) => s.slice(0, 16)));
    expect(groupMembers(sha('a'))).toBeUndefined();
    // Image 2 has no answer; image 3 is unsure.
    const results = new Map<string, BatchLineResult>([[id, { kind: 'answer', completion: completion(JSON.stringify({ '1': { label: 'beagle', confidence: 0.95 }, '3': { label: 'beagle', confidence: 0.3 } })) }]]);
    const o = online();
    const c = new BatchAnswerClassifier({ results, prices, info: { provider: 'azure-openai', deployment: 'gpt-4o-batch', apiVersion: 'v' }, keyInfo: o.info, profile: dogs, logprobs: true, online: o });
    expect(c.info.deployment).toBe('gpt-4o');
    const [a, b, cc] = await Promise.all(ids.slice(0, 3).map((s) => c.classify({ image: image(s), profile: dogs })));
    expect(a?.result).toEqual({ kind: 'single-label', label: 'beagle', confidence: 0.95 });
    expect(a?.model.deployment).toBe('gpt-4o-batch');
    expect(a?.confidenceSource).toBe('self-reported');
    // A third of the line at batch prices: (600 × 1.25 + 30 × 5) / 1e6 / 3.
    expect(a?.usage.costUsd).toBeCloseTo(0.0003, 10);
    expect(o.asked).toEqual([sha('b'), sha('c')]);
    expect(b?.result).toMatchObject({ label: 'pug' });
    expect(cc?.usage.costUsd).toBeCloseTo(0.001 + 0.0003, 10);
    expect(c.counts).toEqual({ fromBatch: 1, online: 2, unanswered: 0 });

    // An image the batch was not built for (another profile) is not answered from it.
    await c.classify({ image: image(ids[0] as string), profile: { ...dogs, version: '2' } });
    expect(o.asked).toHaveLength(3);
  });
});
