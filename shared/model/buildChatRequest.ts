/** The chat completion request the OpenAI classifier sends for one image, as data: batch input lines reuse it verbatim. */
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';

import type { PreprocessedImage } from '../preprocess/preprocessedImage';
import type { LabelProfile, Profile } from '../profiles/profileSchema';
import { buildDetectionMessages } from './buildDetectionMessages';
import { buildDetectionResponseFormat } from './buildDetectionResponseFormat';
import { buildMessages } from './buildMessages';
import { buildResponseFormat } from './buildResponseFormat';
import { detectionMaxTokens } from './detectionMaxTokens';
import { maxTokensFor } from './maxTokensFor';
import { servesBoxes } from './servesBoxes';

/**
 * Same fields and values as OpenAIClassifier's first call (tests/integration/exportService.test.ts compares them with
 * what the classifier actually sent to the fake). Throws for an open-vocabulary `objects` profile, as the classifier.
 */
export function buildChatRequest(profile: Profile, image: PreprocessedImage, options: { model: string; logprobs: boolean }): ChatCompletionCreateParamsNonStreaming {
  if (profile.kind === 'objects' && !servesBoxes(profile)) {
    throw new Error(`Profile "${profile.name}" detects objects without a category list; a vision model cannot answer it.`);
  }
  const boxes = servesBoxes(profile) ? profile : undefined;
  return {
    model: options.model,
    messages: boxes === undefined ? buildMessages(profile as LabelProfile, image) : buildDetectionMessages(boxes, image),
    response_format: boxes === undefined ? buildResponseFormat(profile as LabelProfile) : buildDetectionResponseFormat(boxes),
    max_tokens: boxes === undefined ? maxTokensFor(profile as LabelProfile) : detectionMaxTokens(boxes),
    temperature: 0,
    n: 1,
    logprobs: options.logprobs,
  };
}
