/** The predicted prompt tokens, output reserve and cost of one image's model request, from the shared request builders. */
import { createHash } from 'node:crypto';

import sharp from 'sharp';

import type { ModelPrice } from '../../config';
import { buildChatRequest, costUsd, servesBoxes } from '../../model';
import { estimateImageTokens, resolveDetail, targetSize } from '../../preprocess/imageTokens';
import type { PreprocessedImage } from '../../preprocess/preprocessedImage';
import type { Profile } from '../../profiles';
import { estimatePromptTokens } from './estimatePromptTokens';

export interface RequestEstimate {
  /** What is sent: the size after preprocessing's resize, and the resolved detail. */
  sent: { width: number; height: number; detail: 'low' | 'high' };
  textTokens: number;
  schemaTokens: number;
  imageTokens: number;
  promptTokens: number;
  /** `max_tokens` of the request: the most the answer can cost. */
  maxTokens: number;
  /** Prompt tokens at the input price plus the whole max_tokens reserve at the output price: an upper bound for one call. */
  costUsd: number | null;
}

export interface Pricing {
  prices: Readonly<Record<string, ModelPrice>>;
  /** The deployment or model name the price table is looked up by. */
  modelName: string;
}

/**
 * True for profiles a chat model can be asked about: every labelling profile, and detection with a closed category
 * list (driving-objects: GPT-4o boxes). Open-vocabulary detection is the local detector's alone, which costs nothing.
 */
export function isPaidProfile(profile: Profile): boolean {
  return profile.kind !== 'objects' || servesBoxes(profile);
}

/** An image part stands in for the real one: buildMessages' text does not depend on the pixels. */
function placeholderImage(detail: 'low' | 'high'): PreprocessedImage {
  return { jpeg: Buffer.alloc(0), detail, width: 1, height: 1, estimatedImageTokens: 0, original: { width: 1, height: 1, format: 'jpeg', sha256: '', bytes: 0 } };
}

export function estimateRequest(profile: Profile, sent: RequestEstimate['sent'], pricing: Pricing | null): RequestEstimate {
  if (!isPaidProfile(profile) || pricing === null) {
    return { sent, textTokens: 0, schemaTokens: 0, imageTokens: 0, promptTokens: 0, maxTokens: 0, costUsd: 0 };
  }
  const imageTokens = estimateImageTokens(sent.width, sent.height, sent.detail);
  // The exact request the classifier sends (messages, response_format, max_tokens), from the one shared builder.
  const request = buildChatRequest(profile, placeholderImage(sent.detail), { model: pricing.modelName, logprobs: false });
  const counted = estimatePromptTokens(request.messages, request.response_format as Parameters<typeof estimatePromptTokens>[1], imageTokens);
  const maxTokens = request.max_tokens ?? 0;
  const inputCost = costUsd({ promptTokens: counted.total, completionTokens: 0 }, pricing.modelName, pricing.prices);
  const outputCost = costUsd({ promptTokens: 0, completionTokens: maxTokens }, pricing.modelName, pricing.prices);
  return {
    sent,
    textTokens: counted.textTokens,
    schemaTokens: counted.schemaTokens,
    imageTokens,
    promptTokens: counted.total,
    maxTokens,
    costUsd: inputCost === null || outputCost === null ? null : inputCost + outputCost,
  };
}

/** From a preprocessed image: exactly what was (or would be) sent. */
export function sentOf(image: PreprocessedImage): RequestEstimate['sent'] {
  return { width: image.width, height: image.height, detail: image.detail };
}

/**
 * From the header alone (no decode), the size preprocessing will send: the same upright size, detail rule and
 * resize. Cheap enough to run before every paid call for --max-cost; undefined when the header is unreadable
 * (preprocessing then rejects the file without a model call).
 */
export async function sentFromHeader(bytes: Buffer, detail: Profile['detail']): Promise<RequestEstimate['sent'] | undefined> {
  try {
    const header = await sharp(bytes, { limitInputPixels: false }).metadata();
    const { width, height } = header.autoOrient;
    if (!(width >= 1 && height >= 1)) return undefined;
    const resolved = resolveDetail(width, height, detail);
    return { ...targetSize(width, height, resolved), detail: resolved };
  } catch {
    return undefined;
  }
}

/** SHA-256 of exactly what frames every request of this profile: system prompt, user text, response_format, max_tokens. */
export function promptHash(profile: Profile): string | null {
  if (!isPaidProfile(profile)) return null;
  const request = buildChatRequest(profile, placeholderImage(profile.detail === 'low' ? 'low' : 'high'), { model: '', logprobs: false });
  const texts = request.messages.map((m) => {
    const content = (m as { content?: unknown }).content;
    return typeof content === 'string' ? content : Array.isArray(content) ? (content as { type?: string; text?: string }[]).filter((p) => p.type === 'text').map((p) => p.text) : null;
  });
  return createHash('sha256').update(JSON.stringify({ messages: texts, response_format: request.response_format, max_tokens: request.max_tokens })).digest('hex');
}
