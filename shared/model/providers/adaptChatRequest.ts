/** Fits the one chat request (buildChatRequest) to what a provider can do, from its capabilities rather than its name. */
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';

import { PermanentError } from '../../errors';
import type { ProviderCapabilities } from './capabilities';

/** Opens the schema block in the system message; the fake Foundry model reads the schema from there, as a model would. */
export const SCHEMA_PROMPT_HEADER = 'Reply with only one JSON object, no prose and no code fence, that is valid against this JSON schema:';

/**
 * - strict `json_schema` kept only for a provider that enforces it; otherwise the schema goes into the system message
 *   (a "prompt-described schema") and the response format becomes JSON mode when the provider has it, or is dropped.
 *   The answer is then only as good as the model's obedience: parseAnswer validates it against the profile with zod
 *   and the classifier asks once more, exactly as for a strict endpoint's rare bad answer.
 * - `logprobs` only where the provider returns them; `n` and `logprobs` dropped for an API that does not define them
 *   (the Foundry model inference API refuses unknown parameters under `extra-parameters: error`).
 * - More images in one user turn than the provider takes is refused before anything is paid for.
 * Identity for a provider that can do everything the request asks.
 */
export function adaptChatRequest(request: ChatCompletionCreateParamsNonStreaming, caps: ProviderCapabilities): ChatCompletionCreateParamsNonStreaming {
  const imagesInOneTurn = Math.max(0, ...request.messages.map(imageCount));
  if (imagesInOneTurn > caps.imagesPerTurn) {
    throw new PermanentError('profile_not_supported', `The request puts ${imagesInOneTurn} images in one turn; this model provider takes ${caps.imagesPerTurn}. Send one image per request.`, {
      details: { images: imagesInOneTurn, imagesPerTurn: caps.imagesPerTurn },
    });
  }

  const adapted: ChatCompletionCreateParamsNonStreaming = { ...request };
  const format = request.response_format;
  if (format?.type === 'json_schema' && !caps.strictJsonSchema) {
    const schema = format.json_schema.schema ?? {};
    adapted.messages = withSchemaInSystemMessage(request.messages, schema);
    if (caps.jsonMode) adapted.response_format = { type: 'json_object' };
    else delete adapted.response_format;
  }
  if (!caps.logprobs || !caps.openAIParameters) delete adapted.logprobs;
  if (!caps.openAIParameters) delete adapted.n;
  return adapted;
}

function withSchemaInSystemMessage(messages: readonly ChatCompletionMessageParam[], schema: Record<string, unknown>): ChatCompletionMessageParam[] {
  const block = `${SCHEMA_PROMPT_HEADER}\n${JSON.stringify(schema)}`;
  const first = messages[0];
  if (first?.role === 'system' && typeof first.content === 'string') return [{ role: 'system', content: `${first.content}\n${block}` }, ...messages.slice(1)];
  return [{ role: 'system', content: block }, ...messages];
}

function imageCount(message: ChatCompletionMessageParam): number {
  return message.role === 'user' && Array.isArray(message.content) ? message.content.filter((p) => p.type === 'image_url').length : 0;
}
