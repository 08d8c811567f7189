/** Prompt caching as the fake reports it (Azure's rule) and as blobsight prices it (cached tokens at the cached rate). */
import { describe, expect, it } from 'vitest';

import { DEFAULT_PRICES } from '../../shared/config';
import { costUsd } from '../../shared/model';
import { cachedTokensFor, createPromptCache, promptUnits } from '../support/fakeOpenAI/promptCache';
import type { ValidatedChatRequest } from '../support/fakeOpenAI/validateChatRequest';

function request(system: string, imageUrl: string): ValidatedChatRequest {
  const messages = [
    { role: 'system', content: system },
    { role: 'user', content: [{ type: 'text', text: 'Classify.' }, { type: 'image_url', image_url: { url: imageUrl, detail: 'low' } }] },
  ];
  return { body: {}, messages, images: [{ mime: 'image/jpeg', bytes: 10, width: 64, height: 64, detail: 'low' }], responseFormat: 'json_schema', schema: undefined, strict: true, logprobs: false, topLogprobs: 0, maxTokens: 20, n: 1, model: undefined };
}

describe('fake prompt cache (Azure: 1,024 tokens, then 128-token steps)', () => {
  it('caches nothing under 1,024 shared tokens, then whole 128-token steps of the shared prefix', () => {
    expect([0, 1023, 1024, 1151, 1152, 2000].map(cachedTokensFor)).toEqual([0, 0, 1024, 1024, 1152, 1920]);
  });

  it('reports cached tokens only for a repeated static prefix of 1,024+ tokens; a different image after it does not matter', () => {
    const cache = createPromptCache();
    const long = 'word '.repeat(1500);
    const first = request(long, 'data:image/jpeg;base64,AAAA');
    expect(cache.lookup('gpt-4o', first)).toBe(0);
    const prefix = promptUnits(first).length - 85;
    const second = cache.lookup('gpt-4o', request(long, 'data:image/jpeg;base64,BBBB'));
    expect(second).toBe(cachedTokensFor(prefix));
    expect(second).toBeGreaterThanOrEqual(1024);
    // Another deployment has its own cache; a short prompt is never cached.
    expect(cache.lookup('gpt-4o-mini', request(long, 'data:image/jpeg;base64,BBBB'))).toBe(0);
    const short = 'word '.repeat(300);
    cache.lookup('gpt-4o', request(short, 'data:image/jpeg;base64,AAAA'));
    expect(cache.lookup('gpt-4o', request(short, 'data:image/jpeg;base64,BBBB'))).toBe(0);
  }, 60_000);
});

describe('costUsd with cached tokens', () => {
  it('prices cached prompt tokens at the cached rate (gpt-4o: half the input price) and the rest at full price', () => {
    const full = costUsd({ promptTokens: 2000, completionTokens: 10 }, 'gpt-4o-2024-11-20', DEFAULT_PRICES);
    const cached = costUsd({ promptTokens: 2000, completionTokens: 10, cachedTokens: 1024 }, 'gpt-4o-2024-11-20', DEFAULT_PRICES);
    expect(full).toBeCloseTo((2000 * 2.5 + 10 * 10) / 1e6, 12);
    expect(cached).toBeCloseTo((976 * 2.5 + 1024 * 1.25 + 10 * 10) / 1e6, 12);
    // A table without a cached rate prices cached tokens as input: never below what is billed.
    expect(costUsd({ promptTokens: 2000, completionTokens: 0, cachedTokens: 1024 }, 'm', { m: { inputPerMTok: 1, outputPerMTok: 1 } })).toBeCloseTo(2000 / 1e6, 12);
  });
});
