/**
 * One chat request for several images of one labelling profile: the profile's rules, prompt and schema are sent (and
 * paid) once, and the answer is an object keyed "1".."n" with one strict per-image answer each. The per-image schema
 * goes in `$defs` once and every key refers to it, so the label enum is not repeated n times.
 */
import type { ChatCompletionContentPart, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';

import type { PreprocessedImage } from '../preprocess/preprocessedImage';
import type { LabelProfile } from '../profiles/profileSchema';
import { imagePart, systemRules, taskText } from './buildMessages';
import { answerSchema, strictObject } from './buildResponseFormat';
import { maxTokensFor } from './maxTokensFor';
import type { AnswerFailure, ParsedAnswer } from './parseAnswer';
import { parseAnswer } from './parseAnswer';

export const MAX_IMAGES_PER_REQUEST = 10;

/** The answer key of the i-th image (0-based): "1", "2", ... as the prompt numbers them. */
export const imageKey = (i: number): string => String(i + 1);

export function buildMultiImageRequest(profile: LabelProfile, images: readonly PreprocessedImage[], options: { model: string }): ChatCompletionCreateParamsNonStreaming {
  const n = images.length;
  if (n < 1 || n > MAX_IMAGES_PER_REQUEST) throw new Error(`A multi-image request holds 1 to ${MAX_IMAGES_PER_REQUEST} images, not ${n}.`);
  const system = `${systemRules(profile)}\n${n} images follow, numbered 1 to ${n}. Judge each image on its own and answer for each under its number.`;
  const parts: ChatCompletionContentPart[] = [{ type: 'text', text: taskText(profile) }];
  images.forEach((image, i) => parts.push({ type: 'text', text: `Image ${imageKey(i)}:` }, imagePart(image)));
  const properties = Object.fromEntries(images.map((_, i) => [imageKey(i), { $ref: '#/$defs/answer' }]));
  return {
    model: options.model,
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: parts },
    ],
    response_format: { type: 'json_schema', json_schema: { name: profile.name, strict: true, schema: { ...strictObject(properties), $defs: { answer: answerSchema(profile) } } } },
    // Each image's longest answer, plus its key and separators.
    max_tokens: n * (maxTokensFor(profile) + 3),
    temperature: 0,
    n: 1,
    // Logprob confidence is computed per single answer; here each image's confidence is its self-estimate.
    logprobs: false,
  };
}

/** One entry per image, in order: its parsed answer, or why it has none (missing key, label outside the set, ...). */
export function parseMultiImageAnswer(profile: LabelProfile, content: string, n: number): (ParsedAnswer | AnswerFailure)[] {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (e) {
    const failure: AnswerFailure = { ok: false, reason: 'invalid_json', message: `The answer is not JSON: ${(e as Error).message}` };
    return Array.from({ length: n }, () => failure);
  }
  const byKey = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
  return Array.from({ length: n }, (_, i): ParsedAnswer | AnswerFailure => {
    const answer = byKey[imageKey(i)];
    if (answer === undefined) return { ok: false, reason: 'missing_field', message: `no answer for image ${imageKey(i)}` };
    return parseAnswer(profile, JSON.stringify(answer));
  });
}
