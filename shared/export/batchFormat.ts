/** Azure OpenAI Batch API input JSONL: one `/chat/completions` request per image, the body the classifier would send. */
import { readFileSync, writeFileSync } from 'node:fs';

import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';

import { buildChatRequest } from '../model/buildChatRequest';
import { preprocessImage } from '../preprocess/preprocessImage';
import type { ExportFormat, ExportSummary } from './exportFormat';
import { ExportUsageError } from './ExportUsageError';

export interface BatchInputLine {
  custom_id: string;
  method: 'POST';
  url: '/chat/completions';
  body: ChatCompletionCreateParamsNonStreaming;
}

/** Azure's limits for one batch input file. */
const MAX_LINES = 100_000;
const MAX_FILE_BYTES = 200 * 1024 * 1024;

/**
 * `custom_id` is the image name (unique within a run; the output file comes back in any order and is matched on
 * it). Every line names the same Global-Batch deployment, which Azure requires. No byte-order mark: Azure's batch
 * validation fails on one. An image a person already reviewed is not sent: its answer is settled, paying for it
 * again would only produce an answer the review overrides.
 */
export const batchFormat: ExportFormat = {
  name: 'batch',
  description: 'Azure OpenAI Batch input JSONL: custom_id, method POST, url /chat/completions, body = the classifier request',
  layout: 'file',
  kinds: ['single-label', 'multi-label', 'attributes', 'objects'],
  async write(items, out, ctx) {
    const profile = ctx.profile;
    if (profile === undefined) throw new ExportUsageError('A batch file needs the profile the run used, to build its requests; it is not among the known profiles.');
    if (ctx.deployment === '') throw new ExportUsageError('A batch file names the Global-Batch deployment on every line: pass --deployment NAME (or set AZURE_OPENAI_DEPLOYMENT).');
    const lines: string[] = [];
    const skipped: ExportSummary['skipped'] = [];
    let done = 0;
    for (const item of items) {
      ctx.onProgress?.(done++, items.length);
      if (item.reviewed) {
        skipped.push({ name: item.name, reason: 'reviewed by a person' });
        continue;
      }
      try {
        const image = await preprocessImage(await ctx.loadImage(item.record), { detail: profile.detail, ...ctx.limits });
        const line: BatchInputLine = { custom_id: item.name, method: 'POST', url: '/chat/completions', body: buildChatRequest(profile, image, { model: ctx.deployment, logprobs: ctx.logprobs }) };
        lines.push(JSON.stringify(line));
      } catch (e) {
        skipped.push({ name: item.name, reason: `image not readable: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
    ctx.onProgress?.(done, items.length);
    const text = lines.map((l) => `${l}\n`).join('');
    if (lines.length > MAX_LINES) throw new ExportUsageError(`${lines.length} requests; an Azure batch file holds at most ${MAX_LINES}. Export a smaller run.`);
    writeFileSync(out, text);
    const notes = Buffer.byteLength(text) > MAX_FILE_BYTES ? [`The file is over Azure's ${MAX_FILE_BYTES / 1024 / 1024} MB batch input limit; split it before uploading.`] : [];
    return { files: [out], images: lines.length, skipped, notes };
  },
};

export function readBatchExport(out: string): BatchInputLine[] {
  return readFileSync(out, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as BatchInputLine);
}
