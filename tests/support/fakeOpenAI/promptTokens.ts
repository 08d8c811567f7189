/** Rough prompt-token count: text at four characters a token plus GPT-4o's published image-token formula. */
import type { ImageInfo } from './inspectImage';

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

/** Characters of every text in the messages (string contents and text parts), divided by four, rounded up. */
export function textTokens(messages: readonly unknown[]): number {
  let chars = 0;
  for (const message of messages) {
    const content = (message as { content?: unknown }).content;
    if (typeof content === 'string') chars += content.length;
    if (Array.isArray(content)) {
      for (const part of content as { type?: unknown; text?: unknown }[]) {
        if (part.type === 'text' && typeof part.text === 'string') chars += part.text.length;
      }
    }
  }
  return Math.ceil(chars / 4);
}

export function promptTokens(messages: readonly unknown[], images: readonly ImageInfo[]): number {
  return textTokens(messages) + images.reduce((sum, img) => sum + imageTokens(img.width, img.height, img.detail), 0);
}
