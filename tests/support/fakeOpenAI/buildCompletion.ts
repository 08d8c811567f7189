/** Builds the `chat.completion` body the fake answers with, shaped by the request and by an answer-level fault. */
import { randomBytes } from 'node:crypto';

import { contentFilterResults } from './contentFilterResults';
import { DEFAULT_FILTER_CATEGORY, type Fault } from './fault';
import { promptTokens } from './promptTokens';
import type { FinishReason } from './serviceContract';
import type { Route } from './serviceError';
import { type AnswerToken, tokenizeJson, tokenizeText, tokensText, toLogprobContent } from './tokenize';
import type { ValidatedChatRequest } from './validateChatRequest';

export interface CompletionInput {
  request: ValidatedChatRequest;
  route: Route;
  /** The model name reported in the response. */
  model: string;
  answer: unknown;
  confidences: Record<string, number> | undefined;
  /** The fault being served, if any; only the answer-shaping kinds matter here. */
  fault: Fault | undefined;
}

/** Prose where JSON was asked for: what a model does when it ignores the format. */
export const MALFORMED_JSON_TEXT = 'Sure! Here is what I see in the image: it looks like a photo of something.';

export function buildCompletion(input: CompletionInput): Record<string, unknown> {
  const { request, route, fault } = input;
  let tokens = answerTokens(input);
  let finishReason: FinishReason = 'stop';

  if (fault?.kind === 'length') {
    tokens = tokens.slice(0, Math.max(1, Math.floor(tokens.length / 2)));
    finishReason = 'length';
  } else if (fault?.kind === 'content-filter-finish') {
    tokens = tokens.slice(0, Math.max(1, Math.floor(tokens.length / 3)));
    finishReason = 'content_filter';
  }
  if (request.maxTokens !== undefined && tokens.length > request.maxTokens) {
    tokens = tokens.slice(0, request.maxTokens);
    if (finishReason === 'stop') finishReason = 'length';
  }

  const content = tokensText(tokens);
  const wantsLogprobs = request.logprobs && fault?.kind !== 'no-logprobs';
  const flagged = fault?.kind === 'content-filter-finish' ? (fault.category ?? DEFAULT_FILTER_CATEGORY) : undefined;

  const choices =
    fault?.kind === 'empty-choices'
      ? []
      : Array.from({ length: request.n }, (_, index) => ({
          index,
          message: { role: 'assistant', content, refusal: null },
          finish_reason: finishReason,
          logprobs: wantsLogprobs ? { content: toLogprobContent(tokens, request.topLogprobs), refusal: null } : null,
          ...(route === 'azure' ? { content_filter_results: contentFilterResults('choice', flagged) } : {}),
        }));

  const prompt = promptTokens(request.messages, request.images);
  const completion = tokens.length * choices.length;
  return {
    id: `chatcmpl-${randomId(29)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: input.model,
    system_fingerprint: `fp_${randomBytes(5).toString('hex')}`,
    ...(route === 'azure'
      ? { prompt_filter_results: [{ prompt_index: 0, content_filter_results: contentFilterResults('prompt') }] }
      : { service_tier: 'default' }),
    choices,
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      completion_tokens_details: { accepted_prediction_tokens: 0, audio_tokens: 0, reasoning_tokens: 0, rejected_prediction_tokens: 0 },
      prompt_tokens_details: { audio_tokens: 0, cached_tokens: 0 },
    },
  };
}

function answerTokens({ request, answer, confidences, fault }: CompletionInput): AnswerToken[] {
  if (fault?.kind === 'malformed-json') return tokenizeText(MALFORMED_JSON_TEXT);
  if (request.responseFormat === 'text' && typeof answer === 'string') return tokenizeText(answer);
  return tokenizeJson(answer, {
    ...(request.schema === undefined ? {} : { schema: request.schema }),
    ...(confidences === undefined ? {} : { confidences }),
  });
}

function randomId(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}
