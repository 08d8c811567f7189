/**
 * `npm run bench` (tokens): input tokens and cost per image per profile for today's request (before the cuts), the
 * compact one, 10 images per request, with prompt caching, and through the Batch API. Written to
 * tests/output/bench/tokens.json, tokens.md and tokens.svg. Reported, never asserted.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AzureOpenAI } from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { ResponseFormatJSONSchema } from 'openai/resources/shared';
import { afterAll, beforeAll, describe, it } from 'vitest';

import { BatchApi } from '../../shared/batch/BatchApi';
import { batchPrices } from '../../shared/batch/batchPrices';
import { runBackfill } from '../../shared/batch/runBackfill';
import { estimatePromptTokens } from '../../shared/cli/estimate/estimatePromptTokens';
import { listFolder } from '../../shared/cli/sources/listFolder';
import { DEFAULT_PRICES } from '../../shared/config';
import { buildChatRequest, costUsd } from '../../shared/model';
import { buildMultiImageRequest } from '../../shared/model/multiImageRequest';
import { preprocessImage } from '../../shared/preprocess';
import type { PreprocessedImage } from '../../shared/preprocess/preprocessedImage';
import { loadProfiles } from '../../shared/profiles';
import type { LabelProfile } from '../../shared/profiles/profileSchema';
import { RunFolder } from '../../shared/runs';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { startFakeOpenAI } from '../support/fakeOpenAI';
import { cachedTokensFor } from '../support/fakeOpenAI/promptCache';
import { jpeg } from '../support/imageFixtures';
import { legacyMaxTokens } from './support/legacyMaxTokens';
import { legacyMessages } from './support/legacyMessages';
import { legacyResponseFormat } from './support/legacyResponseFormat';

const OUT = join(__dirname, '..', 'output', 'bench');
/** The published GPT-4o study: 494 prompt + 85 image tokens per image with 120 labels. */
const REFERENCE_INPUT_TOKENS = 579;
const GROUP = 10;
const BATCH = 'gpt-4o-batch';

interface Row {
  profile: string;
  variant: string;
  /** Per image: o200k text + JSON schema + image tokens (the CLI's estimate rule; the schema is counted). */
  inputTokens: number;
  /** Per image: what the fake reports as prompt_tokens (text and images exact; the schema not counted). */
  fakePromptTokens: number;
  /** Per image: prompt tokens served from the prompt cache, by Azure's rule (1,024 then 128-token steps). */
  cachedTokens: number;
  /** The same, as the fake reported it on a repeated request. */
  fakeCachedTokens: number;
  outputTokens: number;
  maxTokens: number;
  costUsd: number;
}

const rows: Row[] = [];
let fake: FakeOpenAI;
let client: AzureOpenAI;
const images: PreprocessedImage[] = [];

beforeAll(async () => {
  fake = await startFakeOpenAI({ batch: { batchDeployments: [BATCH], batchTiming: { validatingMs: 5, inProgressMs: 20, finalizingMs: 5, cancellingMs: 5 }, fileProcessingMs: 1 } });
  // Retries only for a keep-alive socket the loopback server closed between requests on a loaded machine.
  client = new AzureOpenAI({ baseURL: `${fake.url}/openai`, deployment: fake.deployment, apiKey: fake.apiKey, apiVersion: fake.apiVersion, maxRetries: 3 });
  for (let i = 0; i < GROUP + 1; i++) images.push(await preprocessImage(await jpeg(640 + i, 480), { detail: 'low', maxBytes: 20e6, maxPixels: 50e6 }));
}, 120_000);

afterAll(async () => {
  await fake.close();
  mkdirSync(OUT, { recursive: true });
  const dogs = rows.filter((r) => r.profile === 'dog-breeds');
  const compact = dogs.find((r) => r.variant === 'compact');
  const multi = dogs.find((r) => r.variant === `${GROUP} images per request`);
  const online = dogs.find((r) => r.variant === 'compact');
  const batch = dogs.find((r) => r.variant === 'Batch (compact)');
  const targets = {
    inputTokensVsReference: { target: '≤ 60 % of 579', compact: ratio(compact?.inputTokens, REFERENCE_INPUT_TOKENS), multiImage: ratio(multi?.inputTokens, REFERENCE_INPUT_TOKENS) },
    batchCostVsOnline: { target: '≤ 50 %', ratio: ratio(batch?.costUsd, online?.costUsd) },
  };
  writeFileSync(join(OUT, 'tokens.json'), JSON.stringify({ referenceInputTokens: REFERENCE_INPUT_TOKENS, rows, targets }, null, 2));
  const md = [
    '| profile | request | input tokens / image | fake prompt_tokens / image | cached / image | output / image | max_tokens | $ / image |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.profile} | ${r.variant} | ${r.inputTokens.toFixed(0)} | ${r.fakePromptTokens.toFixed(0)} | ${r.cachedTokens.toFixed(0)} | ${r.outputTokens.toFixed(1)} | ${r.maxTokens} | ${r.costUsd.toFixed(6)} |`),
    '',
    `dog-breeds input tokens vs the reference's 579: compact ${pctText(targets.inputTokensVsReference.compact)}, ${GROUP} per request ${pctText(targets.inputTokensVsReference.multiImage)} (target ≤ 60 %); Batch cost vs online ${pctText(targets.batchCostVsOnline.ratio)} (target ≤ 50 %).`,
  ].join('\n');
  writeFileSync(join(OUT, 'tokens.md'), `${md}\n`);
  writeFileSync(join(OUT, 'tokens.svg'), barChart(rows));
  console.log(`\ntokens bench written to tests/output/bench/tokens.{json,md,svg}\n${md}`);
});

function ratio(a: number | undefined, b: number | undefined): number | null {
  return a === undefined || b === undefined || b === 0 ? null : a / b;
}
function pctText(r: number | null): string {
  return r === null ? '?' : `${(r * 100).toFixed(0)} %`;
}

async function send(body: ChatCompletionCreateParamsNonStreaming): Promise<ChatCompletion> {
  return client.chat.completions.create(body);
}

/** Sends the request twice (the second with another image, as the next upload would) and measures the second. */
async function measure(profile: LabelProfile, variant: string, build: (imgs: PreprocessedImage[]) => ChatCompletionCreateParamsNonStreaming, perRequest: number, prices = DEFAULT_PRICES): Promise<void> {
  await send(build(images.slice(0, perRequest)));
  const body = build(images.slice(1, perRequest + 1));
  const c = await send(body);
  const imageTokens = perRequest * 85;
  const estimate = estimatePromptTokens(body.messages, body.response_format as ResponseFormatJSONSchema, imageTokens);
  // Azure's rule on the full prompt (schema included): everything before the first image repeats across requests.
  const cached = variant.includes('caching') ? cachedTokensFor(estimate.total - imageTokens) : 0;
  const usage = { promptTokens: estimate.total, completionTokens: c.usage?.completion_tokens ?? 0, cachedTokens: cached };
  rows.push({
    profile: profile.name,
    variant,
    inputTokens: estimate.total / perRequest,
    fakePromptTokens: (c.usage?.prompt_tokens ?? 0) / perRequest,
    cachedTokens: cached / perRequest,
    fakeCachedTokens: (c.usage?.prompt_tokens_details?.cached_tokens ?? 0) / perRequest,
    outputTokens: usage.completionTokens / perRequest,
    maxTokens: body.max_tokens ?? 0,
    costUsd: (costUsd(usage, c.model, prices) ?? NaN) / perRequest,
  });
}

describe('tokens and cost per image', () => {
  const profiles = loadProfiles(undefined);
  for (const name of ['flowers', 'dog-breeds']) {
    it(`${name}: today, compact, ${GROUP} per request, prompt caching, Batch`, async () => {
      const p = profiles.get(name) as LabelProfile;
      const legacy = (imgs: PreprocessedImage[]): ChatCompletionCreateParamsNonStreaming => ({
        model: fake.deployment,
        messages: legacyMessages(p, imgs[0] as PreprocessedImage),
        response_format: legacyResponseFormat(p),
        max_tokens: legacyMaxTokens(p),
        temperature: 0,
        n: 1,
        logprobs: true,
      });
      const compact = (imgs: PreprocessedImage[]): ChatCompletionCreateParamsNonStreaming => buildChatRequest(p, imgs[0] as PreprocessedImage, { model: fake.deployment, logprobs: true });
      await measure(p, 'today (before the cuts)', legacy, 1);
      await measure(p, 'today + prompt caching', legacy, 1);
      await measure(p, 'compact', compact, 1);
      await measure(p, 'compact + prompt caching', compact, 1);
      await measure(p, `${GROUP} images per request`, (imgs) => buildMultiImageRequest(p, imgs, { model: fake.deployment }), GROUP);
      await measure(p, 'Batch (compact)', compact, 1, batchPrices(DEFAULT_PRICES));
      await measure(p, `Batch, ${GROUP} per request`, (imgs) => buildMultiImageRequest(p, imgs, { model: fake.deployment }), GROUP, batchPrices(DEFAULT_PRICES));
    }, 120_000);
  }
});

/**
 * The real backfill path on the fake's Batch API: the lines blobsight backfill uploads for GROUP dog photos, one
 * image per line and GROUP per line, measured from the input file it wrote (estimate) and the output Azure returned.
 */
describe('dog-breeds through blobsight backfill', () => {
  it(`1 vs ${GROUP} images per Batch line`, async () => {
    const found = loadProfiles(undefined).get('dog-breeds') as LabelProfile;
    const work = mkdtempSync(join(tmpdir(), 'blobsight-tokens-'));
    try {
      const dir = join(work, 'photos');
      mkdirSync(dir);
      for (let i = 0; i < GROUP; i++) writeFileSync(join(dir, `dog-${i}.jpg`), await jpeg(640 + i, 480));
      const limits = { maxBytes: 20e6, maxPixels: 50e6 };
      const sdk = new AzureOpenAI({ baseURL: `${fake.url}/openai`, apiKey: fake.apiKey, apiVersion: fake.apiVersion, maxRetries: 3 });
      for (const per of [1, GROUP]) {
        const profile: LabelProfile = { ...found, imagesPerRequest: per };
        const { folder: run, config } = RunFolder.create(join(work, 'runs'), `dogs-${per}`, new Date(), {
          cliVersion: 'bench',
          profile: { name: profile.name, version: profile.version, kind: profile.kind, detail: profile.detail, confidenceThreshold: profile.confidenceThreshold },
          model: { provider: 'azure-openai', deployment: BATCH, apiVersion: fake.apiVersion, maxTokens: null, logprobs: true },
          promptHash: null,
          profileHash: 'bench',
          source: { kind: 'folder', location: dir },
          concurrency: 4,
          maxCostUsd: null,
          limits,
        });
        const r = await runBackfill({
          items: listFolder(dir, limits.maxBytes).items,
          profile,
          run,
          config,
          limits,
          logprobs: true,
          api: new BatchApi(sdk, { filePollMs: 2 }),
          deployment: BATCH,
          info: { provider: 'azure-openai', deployment: BATCH, apiVersion: fake.apiVersion },
          prices: DEFAULT_PRICES,
          pollMs: 5,
          concurrency: 4,
          stop: new AbortController().signal,
          abort: new AbortController().signal,
        });
        const bodies = readFileSync(run.path('batch-1-input.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { body: ChatCompletionCreateParamsNonStreaming }).body);
        const outputs = readFileSync(run.path('batch-1-output.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { response: { body: ChatCompletion } }).response.body);
        const estimated = bodies.reduce((n, b) => n + estimatePromptTokens(b.messages, b.response_format as ResponseFormatJSONSchema, 85 * (JSON.stringify(b.messages).split('"type":"image_url"').length - 1)).total, 0);
        const completionTokens = outputs.reduce((n, c) => n + (c.usage?.completion_tokens ?? 0), 0);
        // Priced like the other rows, on the estimate (the fake's prompt_tokens leave the schema out, Azure's do not).
        const cost = costUsd({ promptTokens: estimated, completionTokens }, outputs[0]?.model ?? null, batchPrices(DEFAULT_PRICES));
        rows.push({
          profile: profile.name,
          variant: `backfill, ${per} per Batch line (${r.requests} line${r.requests === 1 ? '' : 's'}, ${r.fromBatch}/${GROUP} answered from the batch)`,
          inputTokens: estimated / GROUP,
          fakePromptTokens: outputs.reduce((n, c) => n + (c.usage?.prompt_tokens ?? 0), 0) / GROUP,
          cachedTokens: 0,
          fakeCachedTokens: 0,
          outputTokens: completionTokens / GROUP,
          maxTokens: bodies[0]?.max_tokens ?? 0,
          costUsd: (cost ?? NaN) / GROUP,
        });
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});

/** Horizontal bars of $ per image, one per profile and request kind. */
function barChart(data: readonly Row[]): string {
  const max = Math.max(...data.map((r) => r.costUsd));
  const rowH = 22;
  const left = 300;
  const width = 760;
  const bars = data
    .map((r, i) => {
      const w = ((width - left - 90) * r.costUsd) / max;
      const y = 30 + i * rowH;
      return `<text x="${left - 6}" y="${y + 14}" text-anchor="end" font-size="12">${escape(`${r.profile}: ${r.variant}`)}</text><rect x="${left}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${r.profile === 'dog-breeds' ? '#4e79a7' : '#f28e2b'}"/><text x="${(left + w + 4).toFixed(1)}" y="${y + 14}" font-size="11">$${r.costUsd.toFixed(6)}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${40 + data.length * rowH}" font-family="sans-serif"><text x="10" y="18" font-size="14">GPT-4o cost per image (USD), low detail</text>\n${bars}\n</svg>\n`;
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
