/** max_tokens is the smallest bound that still holds every answer the strict schema allows, checked with GPT-4o's real tokenizer. */
import { describe, expect, it } from 'vitest';

import { countTextTokens } from '../../shared/cli/estimate/gpt4oTokenizer';
import { maxTokensFor } from '../../shared/model';
import { answerConfidenceKey } from '../../shared/model/answerConfidenceKey';
import type { Label } from '../../shared/profiles';
import { loadProfiles } from '../../shared/profiles';
import type { LabelProfile } from '../../shared/profiles/profileSchema';

const LONGEST_CONFIDENCE = 0.12345678901234568;

function mostTokens(labels: readonly Label[]): string {
  let best = labels[0]?.name ?? '';
  for (const l of labels) if (countTextTokens(JSON.stringify(l.name)) > countTextTokens(JSON.stringify(best))) best = l.name;
  return best;
}

/** The answer with the most tokens: the label of most tokens per field, every multi-label key false, the longest number. */
function worstAnswer(p: LabelProfile): string {
  const key = answerConfidenceKey(p);
  switch (p.kind) {
    case 'single-label':
      return JSON.stringify({ label: mostTokens(p.labels), [key]: LONGEST_CONFIDENCE });
    case 'multi-label':
      return JSON.stringify({ labels: Object.fromEntries(p.labels.map((l) => [l.name, false])), [key]: LONGEST_CONFIDENCE });
    case 'attributes':
      return JSON.stringify({ ...Object.fromEntries(p.attributes.map((a) => [a.name, mostTokens(a.labels)])), [key]: LONGEST_CONFIDENCE });
  }
}

describe('maxTokensFor against o200k_base', () => {
  const profiles = loadProfiles(undefined)
    .list()
    .filter((p): p is LabelProfile => p.kind !== 'objects');

  it('covers the longest answer of every built-in labelling profile, with little slack', () => {
    expect(profiles.map((p) => p.name)).toContain('dog-breeds');
    for (const p of profiles) {
      const needed = countTextTokens(worstAnswer(p)) + 1; // + the end-of-message token
      const max = maxTokensFor(p);
      expect(max, p.name).toBeGreaterThanOrEqual(needed);
      // Tight: what Azure counts against the quota beyond the answer is a few tokens, not a multiple of it.
      expect(max, p.name).toBeLessThanOrEqual(Math.ceil(needed * 1.6) + 6);
    }
  }, 60_000);

  it('covers every single label of dog-breeds, not only the longest by bytes', () => {
    const dogs = profiles.find((p) => p.name === 'dog-breeds');
    if (dogs?.kind !== 'single-label') throw new Error('dog-breeds missing');
    const max = maxTokensFor(dogs);
    for (const l of dogs.labels) expect(countTextTokens(JSON.stringify({ label: l.name, confidence: LONGEST_CONFIDENCE })) + 1).toBeLessThanOrEqual(max);
    // The bound before this change (2 bytes per token, 16 spare) reserved 58.
    expect(max).toBeLessThan(40);
  }, 60_000);
});
