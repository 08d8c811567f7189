/** Azure's per-example rules on a built chat example (what goes on one JSONL line), before it is written. */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

import { ACCEPTED_MEDIA_TYPES, MAX_IMAGE_BYTES, MAX_IMAGES_PER_EXAMPLE } from './visionFineTuningRules';

export function exampleProblems(name: string, messages: readonly ChatCompletionMessageParam[]): string[] {
  const problems: string[] = [];
  let images = 0;
  for (const m of messages) {
    const content = (m as { content?: unknown }).content;
    if (!Array.isArray(content)) continue;
    for (const part of content as { type?: string; image_url?: { url?: string } }[]) {
      if (part.type !== 'image_url') continue;
      images++;
      if (m.role === 'assistant') problems.push(`${name}: the assistant turn holds an image; Azure accepts images only in user and system turns.`);
      const url = part.image_url?.url ?? '';
      const data = /^data:([^;,]+);base64,/.exec(url);
      if (data === null) {
        if (!url.startsWith('https://')) problems.push(`${name}: image URL must be https:// or a base64 data URL.`);
        continue;
      }
      if (!ACCEPTED_MEDIA_TYPES.has(data[1] ?? '')) problems.push(`${name}: image type ${data[1] ?? ''} is not JPEG, PNG or WebP.`);
      if (Buffer.byteLength(url.slice(data[0].length), 'base64') > MAX_IMAGE_BYTES) problems.push(`${name}: the image sent is over 10 MB.`);
    }
  }
  if (images > MAX_IMAGES_PER_EXAMPLE) problems.push(`${name}: ${images} images in one example; Azure allows at most ${MAX_IMAGES_PER_EXAMPLE}.`);
  if (images === 0) problems.push(`${name}: the example has no image.`);
  return problems;
}
