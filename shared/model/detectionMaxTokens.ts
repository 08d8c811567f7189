/** `max_tokens` for a detection answer: the longest answer the profile allows, as maxTokensFor does for labels. */
import type { ObjectsProfile } from '../profiles/profileSchema';
import { answerConfidenceKey } from './answerConfidenceKey';
import { BOX_GRID } from './boxGrid';
import { MAX_ANSWER_TOKENS } from './maxTokensFor';

/** Same conservative rates as maxTokensFor (2 UTF-8 bytes per token, whitespace per property, a margin). */
const BYTES_PER_TOKEN = 2;
const WHITESPACE_TOKENS_PER_PROPERTY = 2;
const MARGIN_TOKENS = 16;
const LONGEST_SCORE = 0.12345678901234568;
/** Properties in one object: category, box, score, and the box's four corners. */
const PROPERTIES_PER_OBJECT = 7;

/**
 * `maxObjects` objects of the longest category with four-digit coordinates, plus the longest attribute labels. The
 * model may list more than maxObjects (it is told not to); those are cut by `length` and asked again with twice the
 * budget by the classifier.
 */
export function detectionMaxTokens(profile: ObjectsProfile & { categories: readonly string[] }): number {
  const longestCategory = profile.categories.reduce((a, b) => (Buffer.byteLength(b) > Buffer.byteLength(a) ? b : a), '');
  const object = { category: longestCategory, box: { x1: BOX_GRID, y1: BOX_GRID, x2: BOX_GRID, y2: BOX_GRID }, score: LONGEST_SCORE };
  const attributes = Object.fromEntries(
    (profile.attributes ?? []).map((a) => [a.name, a.labels.reduce((x, l) => (Buffer.byteLength(l.name) > Buffer.byteLength(x) ? l.name : x), '')]),
  );
  const answer = JSON.stringify({ ...attributes, objects: Array.from({ length: profile.maxObjects }, () => object), [answerConfidenceKey(profile)]: LONGEST_SCORE });
  const properties = (profile.attributes ?? []).length + 2 + profile.maxObjects * PROPERTIES_PER_OBJECT;
  const estimate = Math.ceil(Buffer.byteLength(answer, 'utf8') / BYTES_PER_TOKEN) + WHITESPACE_TOKENS_PER_PROPERTY * properties + MARGIN_TOKENS;
  return Math.min(estimate, MAX_ANSWER_TOKENS);
}
