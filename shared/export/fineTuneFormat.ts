/** Azure OpenAI vision fine-tuning JSONL: system, user (task + image as a data URL), assistant (the JSON answer); seeded split. */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

import { buildChatRequest } from '../model/buildChatRequest';
import { preprocessImage } from '../preprocess/preprocessImage';
import { answerForTraining } from './answerForTraining';
import type { ExportFormat, ExportSummary } from './exportFormat';
import { ExportUsageError } from './ExportUsageError';
import { EXPORT_MARKER } from './prepareOut';

export const TRAIN_FILE = 'train.jsonl';
export const VALIDATION_FILE = 'validation.jsonl';
/** Azure refuses a training file with fewer examples. */
const MIN_EXAMPLES = 10;

export interface FineTuneExample {
  messages: ChatCompletionMessageParam[];
}

/**
 * Which split an image goes to: a hash of seed and name, so the split is reproducible from the seed, and an image
 * stays on its side when the run grows (a random shuffle would move images between train and validation).
 */
export function inValidation(seed: string, name: string, fraction: number): boolean {
  const h = createHash('sha256').update(`${seed}\u0000${name}`).digest();
  return h.readUInt32BE(0) / 2 ** 32 < fraction;
}

/**
 * The system and user messages are exactly those the classifier sends (same prompt, same preprocessing and detail),
 * so the tuned model is trained on what it will be asked. The answer is the review when there is one (confidence 1),
 * else the model's (its confidence). Images whose bytes cannot be read are left out and listed.
 */
export const fineTuneFormat: ExportFormat = {
  name: 'fine-tune',
  description: 'Azure OpenAI vision fine-tuning: train.jsonl + validation.jsonl (chat format, image as data URL), seeded split',
  layout: 'folder',
  kinds: ['single-label', 'multi-label', 'attributes', 'objects'],
  async write(items, out, ctx) {
    const profile = ctx.profile;
    if (profile === undefined) throw new ExportUsageError('Fine-tuning needs the profile the run used, to rebuild its prompt; it is not among the known profiles.');
    const train: string[] = [];
    const validation: string[] = [];
    const skipped: ExportSummary['skipped'] = [];
    let done = 0;
    for (const item of items) {
      ctx.onProgress?.(done++, items.length);
      const size = item.width === null || item.height === null ? null : { width: item.width, height: item.height };
      const answer = answerForTraining(profile, item.result, item.reviewed ? 1 : (item.record.confidence ?? 1), size);
      if (answer === null) {
        skipped.push({ name: item.name, reason: `answer does not fit profile ${profile.name}` });
        continue;
      }
      let messages: ChatCompletionMessageParam[];
      try {
        const image = await preprocessImage(await ctx.loadImage(item.record), { detail: profile.detail, ...ctx.limits });
        messages = buildChatRequest(profile, image, { model: 'fine-tune', logprobs: false }).messages;
      } catch (e) {
        skipped.push({ name: item.name, reason: `image not readable: ${e instanceof Error ? e.message : String(e)}` });
        continue;
      }
      const line = JSON.stringify({ messages: [...messages, { role: 'assistant', content: answer }] } satisfies FineTuneExample);
      (inValidation(ctx.seed, item.name, ctx.validationFraction) ? validation : train).push(line);
    }
    ctx.onProgress?.(done, items.length);
    writeFileSync(join(out, TRAIN_FILE), train.map((l) => `${l}\n`).join(''));
    writeFileSync(join(out, VALIDATION_FILE), validation.map((l) => `${l}\n`).join(''));
    writeFileSync(join(out, EXPORT_MARKER), `${JSON.stringify({ format: 'fine-tune', seed: ctx.seed, validationFraction: ctx.validationFraction, train: train.length, validation: validation.length }, null, 2)}\n`);
    const notes = [`train ${train.length}, validation ${validation.length} (seed ${JSON.stringify(ctx.seed)}, ${Math.round(ctx.validationFraction * 100)}% validation)`];
    if (train.length < MIN_EXAMPLES) notes.push(`Azure OpenAI needs at least ${MIN_EXAMPLES} training examples; this file has ${train.length}.`);
    return { files: [TRAIN_FILE, VALIDATION_FILE], images: train.length + validation.length, skipped, notes };
  },
};

export function readFineTuneExport(out: string): { train: FineTuneExample[]; validation: FineTuneExample[] } {
  const read = (f: string): FineTuneExample[] => readFileSync(join(out, f), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as FineTuneExample);
  return { train: read(TRAIN_FILE), validation: read(VALIDATION_FILE) };
}
