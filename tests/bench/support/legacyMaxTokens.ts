/** max_tokens before the token cuts (commit 79ebde5), for the bench's baseline. */
import { answerConfidenceKey } from '../../../shared/model/answerConfidenceKey';
import type { Label, LabelProfile } from '../../../shared/profiles/profileSchema';

/**
 * Conservative UTF-8 bytes per token. GPT-4o's tokenizer averages about 4 bytes per token on English and
 * JSON punctuation (`":"`, `","` are single tokens); 2 over-counts ASCII answers about twofold and still
 * covers labels in non-Latin scripts (3 bytes per character, usually one token per character).
 */
const BYTES_PER_TOKEN = 2;
/** The model may put a newline and indentation before each property; a whitespace run is usually one token. */
const WHITESPACE_TOKENS_PER_PROPERTY = 2;
/** For the end-of-message token and anything the estimate misses. */
const MARGIN_TOKENS = 16;
/** GPT-4o's output limit; asking for more is a 400. */
const MAX_ANSWER_TOKENS = 16_384;
/** The longest decimal a double prints as (17 significant digits): the self-estimate's worst case. */
const LONGEST_CONFIDENCE = 0.12345678901234568;

/**
 * An upper bound on the answer's tokens: the compact JSON of the longest possible answer (longest label of
 * every field, every multi-label key, the longest confidence), measured in UTF-8 bytes at BYTES_PER_TOKEN,
 * plus whitespace allowance per property and a fixed margin. A two-label profile gets about 45 tokens
 * instead of the endpoint's default of thousands.
 */
export function legacyMaxTokens(profile: LabelProfile): number {
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
  const estimate =
    Math.ceil(Buffer.byteLength(answer, 'utf8') / BYTES_PER_TOKEN) + WHITESPACE_TOKENS_PER_PROPERTY * (properties + 1) + MARGIN_TOKENS;
  return Math.min(estimate, MAX_ANSWER_TOKENS);
}

function longestName(labels: readonly Label[]): string {
  let best = '';
  for (const { name } of labels) {
    if (Buffer.byteLength(JSON.stringify(name), 'utf8') > Buffer.byteLength(JSON.stringify(best), 'utf8')) best = name;
  }
  return best;
}
