/** Predicts the prompt tokens of the exact request the OpenAI classifier sends, without sending it. */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ResponseFormatJSONSchema } from 'openai/resources/shared';

import { countTextTokens } from './gpt4oTokenizer';

/** OpenAI's published chat accounting for GPT-4o: every message costs 3 tokens of framing, the reply is primed with 3. */
const TOKENS_PER_MESSAGE = 3;
const REPLY_PRIMING_TOKENS = 3;

export interface PromptTokenEstimate {
  /** Message framing, roles and text parts. */
  textTokens: number;
  /** The response_format JSON schema (see the counting rule below). */
  schemaTokens: number;
  /** Image parts by the published image-token rule, from the caller (it knows the sent size and detail). */
  imageTokens: number;
  total: number;
}

/**
 * Counting rule:
 * - text: o200k_base tokens of each message's role and of every text part, plus 3 per message and 3 for the reply
 *   (the rule OpenAI publishes for gpt-4o chat requests);
 * - images: not their base64 text but the image-token rule (85 low; 85 + 170 per 512-px tile high) at the size
 *   preprocessing produced, passed in as `imageTokens`;
 * - response_format: the service adds the JSON schema to the prompt in a form it does not publish; we count the
 *   o200k_base tokens of `JSON.stringify(json_schema)` (name, strict flag and schema), which is what the schema
 *   contains and the closest rule we can state.
 */
export function estimatePromptTokens(messages: readonly ChatCompletionMessageParam[], responseFormat: ResponseFormatJSONSchema | undefined, imageTokens: number): PromptTokenEstimate {
  let textTokens = REPLY_PRIMING_TOKENS;
  for (const m of messages) {
    textTokens += TOKENS_PER_MESSAGE + countTextTokens(m.role);
    const content = (m as { content?: unknown }).content;
    if (typeof content === 'string') textTokens += countTextTokens(content);
    else if (Array.isArray(content)) {
      for (const part of content as { type?: unknown; text?: unknown }[]) {
        if (part.type === 'text' && typeof part.text === 'string') textTokens += countTextTokens(part.text);
      }
    }
  }
  const schemaTokens = responseFormat === undefined ? 0 : countTextTokens(JSON.stringify(responseFormat.json_schema));
  return { textTokens, schemaTokens, imageTokens, total: textTokens + schemaTokens + imageTokens };
}
