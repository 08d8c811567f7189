/**
 * The service's multi-image hook, off by default: with MULTI_IMAGE_WINDOW_MS > 0, classify calls of a profile with
 * `imagesPerRequest` > 1 that arrive within that window (or until the profile's group is full) in this process go out
 * as one request, each caller getting its own answer; a missing, unusable or unsure answer is asked again alone. A
 * profile with imagesPerRequest 1 is passed straight through, never waiting. The group request is gated and counted
 * against every member's attempt hooks (MAX_MODEL_ATTEMPTS, the time budget), and its bill is shared equally.
 *
 * Accuracy: grouped images are judged in one context and their confidence is the model's self-estimate, not token
 * logprobs; the README states the risk.
 */
import type OpenAI from 'openai';

import type { ModelPrice } from '../config';
import type { ModelInfo } from './classification';
import type { Classifier } from './classifier';
import { MultiImageClassifier } from './multiImageClassifier';

export interface MultiImageCoalescerOptions {
  /** The client the single classifier uses (gatedFetch, pacing): group requests are gated and paced the same way. */
  client: OpenAI;
  info: ModelInfo;
  model: string;
  prices: Readonly<Record<string, ModelPrice>>;
  timeoutMs: number;
  /** MULTI_IMAGE_WINDOW_MS; 0 or undefined: `single` is returned unchanged. */
  windowMs: number | undefined;
}

export function coalesceMultiImage(single: Classifier, o: MultiImageCoalescerOptions): Classifier {
  if (o.windowMs === undefined || o.windowMs <= 0) return single;
  return new MultiImageClassifier({ client: o.client, info: o.info, model: o.model, prices: o.prices, single, windowMs: o.windowMs, gateAttempts: true, timeoutMs: o.timeoutMs });
}
