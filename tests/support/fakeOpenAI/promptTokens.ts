/** Prompt-token count: GPT-4o's tokenizer (o200k_base) on the texts, the chat format's per-message overhead, and GPT-4o's published image-token formula. */
import type { ImageInfo } from './inspectImage';
import { o200kCount } from './o200k';

/**
 * The chat format's overhead as OpenAI's cookbook counts it for gpt-4o ("How to count tokens with tiktoken"):
 * 3 tokens per message plus its role's tokens, and 3 that prime the reply.
 */
const TOKENS_PER_MESSAGE = 3;
const REPLY_PRIMING_TOKENS = 3;

/**
 * GPT-4o image tokens: `low` is a flat 85; `high`/`auto` fit the image in 2048×2048, then shrink its shortest side
 * to 768 (never enlarging), and cost 85 + 170 per 512-pixel tile. Scaled sizes are floored, as the service does.
 */
export function imageTokens(width: number, height: number, detail: ImageInfo['detail']): number {
  if (detail === 'low') return 85;
  let w = width;
  let h = height;
  const fit = Math.min(1, 2048 / w, 2048 / h);
  w = Math.floor(w * fit);
  h = Math.floor(h * fit);
  const shrink = Math.min(1, 768 / Math.min(w, h));
  w = Math.floor(w * shrink);
  h = Math.floor(h * shrink);
  return 85 + 170 * Math.ceil(w / 512) * Math.ceil(h / 512);
}

/** o200k_base tokens of every message: its role, its string content or text parts, and the per-message overhead. */
export function textTokens(messages: readonly unknown[]): number {
  let tokens = REPLY_PRIMING_TOKENS;
  for (const message of messages) {
    const { role, content } = message as { role?: unknown; content?: unknown };
    tokens += TOKENS_PER_MESSAGE + (typeof role === 'string' ? o200kCount(role) : 0);
    if (typeof content === 'string') tokens += o200kCount(content);
    if (Array.isArray(content)) {
      for (const part of content as { type?: unknown; text?: unknown }[]) {
        if (part.type === 'text' && typeof part.text === 'string') tokens += o200kCount(part.text);
      }
    }
  }
  return tokens;
}

export function promptTokens(messages: readonly unknown[], images: readonly ImageInfo[]): number {
  return textTokens(messages) + images.reduce((sum, img) => sum + imageTokens(img.width, img.height, img.detail), 0);
}
