/** Sizes `max_tokens` to the longest answer a profile allows, because Azure charges max_tokens against the TPM quota. */
import type { Label, LabelProfile } from '../profiles/profileSchema';
import { answerConfidenceKey } from './answerConfidenceKey';

/**
 * GPT-4o's tokenizer (o200k_base) never needs more than one token per 3 ASCII bytes on label words and JSON
 * punctuation (`{"`, `":"`, `","` are single tokens; words are whole tokens or 2-3 letter pieces), and at most one
 * per byte otherwise. The tokenizer itself is not loaded here: it costs 1.6 s and 150 MB, which the service's cold
 * path cannot afford; tests/unit/tokensMaxTokens.test.ts checks the bound against it for every built-in profile.
 */
const ASCII_BYTES_PER_TOKEN = 3;
/** Per property: a key/value boundary the bound above may split differently than the tokenizer. */
const TOKENS_PER_PROPERTY = 1;
/** The end-of-message token, and slack for a space the model may put after `:` or `,`. */
const MARGIN_TOKENS = 4;
/** GPT-4o's output limit; asking for more is a 400. */
export const MAX_ANSWER_TOKENS = 16_384;
/** The longest decimal a double prints as (17 significant digits): the self-estimate's worst case. */
const LONGEST_CONFIDENCE = 0.12345678901234568;
/** Its tokens: `0`, `.`, and the 17 digits in groups of three (o200k splits digit runs in threes). */
const CONFIDENCE_TOKENS = 8;

/**
 * An upper bound on the answer's tokens, as small as the strict schema allows: the compact JSON of the longest
 * possible answer (longest label of every field, every multi-label key, the longest confidence), its ASCII bytes at
 * ASCII_BYTES_PER_TOKEN and other bytes at one token each, plus one token per property and a small margin. An
 * answer that still hits the limit is asked again with twice the budget (OpenAIClassifier), so a tight bound costs
 * at worst one retry, while every token of slack is counted against the quota on every request.
 */
export function maxTokensFor(profile: LabelProfile): number {
  const confidenceKey = answerConfidenceKey(profile);
  let longest: Record<string, unknown>;
  let properties: number;
  switch (profile.kind) {
    case 'single-label':
      longest = { label: longestName(profile.labels) };
      properties = 1;
      break;
    case 'multi-label':
      // `false` is the longer boolean.
      longest = { labels: Object.fromEntries(profile.labels.map((l) => [l.name, false])) };
      properties = 1 + profile.labels.length;
      break;
    case 'attributes':
      longest = Object.fromEntries(profile.attributes.map((a) => [a.name, longestName(a.labels)]));
      properties = profile.attributes.length;
      break;
  }
  const answer = JSON.stringify({ ...longest, [confidenceKey]: LONGEST_CONFIDENCE });
  const withoutNumber = answer.replace(String(LONGEST_CONFIDENCE), '');
  const estimate = tokenBound(withoutNumber) + CONFIDENCE_TOKENS + TOKENS_PER_PROPERTY * (properties + 1) + MARGIN_TOKENS;
  return Math.min(estimate, MAX_ANSWER_TOKENS);
}

/** ASCII bytes at 3 per token, every other byte one token (a non-Latin character is often a token of its own). */
export function tokenBound(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const ch of text) {
    const bytes = Buffer.byteLength(ch, 'utf8');
    if (bytes === 1) ascii++;
    else other += bytes;
  }
  return Math.ceil(ascii / ASCII_BYTES_PER_TOKEN) + other;
}

function longestName(labels: readonly Label[]): string {
  let best = '';
  for (const { name } of labels) {
    if (tokenBound(JSON.stringify(name)) > tokenBound(JSON.stringify(best))) best = name;
  }
  return best;
}
