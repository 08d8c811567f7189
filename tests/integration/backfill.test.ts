/** `blobsight backfill` against the fake's Batch API: answers stored once, failed lines retried online or listed, resumable, split, priced at batch rates. */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { BatchApi } from '../../shared/batch/BatchApi';
import { readBatchState } from '../../shared/batch/batchState';
import { groupCustomId } from '../../shared/batch/groupCustomId';
import type { BackfillOptions } from '../../shared/batch/runBackfill';
import { runBackfill } from '../../shared/batch/runBackfill';
import { runCli } from '../../shared/cli/program';
import { listFolder } from '../../shared/cli/sources/listFolder';
import { DEFAULT_PRICES } from '../../shared/config';
import { OpenAIClassifier } from '../../shared/model';
import { loadProfiles } from '../../shared/profiles';
import type { PredictionRecord, RunConfig } from '../../shared/runs';
import { readJsonLines, RunFolder } from '../../shared/runs';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';

let fake: FakeOpenAI;
let work: string;
const found = loadProfiles(undefined).get('pets');
if (found === undefined) throw new Error('pets profile missing');
const profile = found;
const limits = { maxBytes: 20 * 1024 * 1024, maxPixels: 50_000_000 };
const BATCH = 'gpt-4o-batch';

beforeAll(async () => {
  fake = await startFakeOpenAI({ batch: { batchDeployments: [BATCH], batchTiming: { validatingMs: 5, inProgressMs: 30, finalizingMs: 5, cancellingMs: 5 }, fileProcessingMs: 1 } });
});
afterAll(async () => fake.close());
beforeEach(() => {
  fake.reset();
  work = mkdtempSync(path.join(tmpdir(), 'blobsight-backfill-'));
});

async function folder(n: number, extra: Record<string, Buffer> = {}): Promise<string> {
  const dir = path.join(work, 'photos');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) writeFileSync(path.join(dir, `img-${i}.jpg`), await jpeg(30 + i, 20 + i));
  for (const [name, bytes] of Object.entries(extra)) writeFileSync(path.join(dir, name), bytes);
  return dir;
}

function newRun(dir: string): { run: RunFolder; config: RunConfig } {
  const { folder, config } = RunFolder.create(path.join(work, 'runs'), 'pets', new Date(), {
    cliVersion: 'test',
    profile: { name: profile.name, version: profile.version, kind: profile.kind, detail: profile.detail, confidenceThreshold: profile.confidenceThreshold },
    model: { provider: 'azure-openai', deployment: BATCH, apiVersion: fake.apiVersion, maxTokens: null, logprobs: true },
    promptHash: null,
    profileHash: 'x',
    source: { kind: 'folder', location: dir },
    concurrency: 2,
    maxCostUsd: null,
    limits,
  });
  return { run: folder, config };
}

function options(dir: string, run: RunFolder, config: RunConfig, extra: Partial<BackfillOptions> = {}): BackfillOptions {
  const sdk = new AzureOpenAI({ baseURL: `${fake.url}/openai`, apiKey: fake.apiKey, apiVersion: fake.apiVersion, maxRetries: 0 });
  const onlineClient = new AzureOpenAI({ baseURL: `${fake.url}/openai`, deployment: fake.deployment, apiKey: fake.apiKey, apiVersion: fake.apiVersion, maxRetries: 0 });
  const info = { provider: 'azure-openai', deployment: fake.deployment, apiVersion: fake.apiVersion };
  return {
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
    online: new OpenAIClassifier({ client: onlineClient, info, model: fake.deployment, prices: DEFAULT_PRICES, logprobs: true }),
    pollMs: 5,
    concurrency: 2,
    stop: new AbortController().signal,
    abort: new AbortController().signal,
    ...extra,
  };
}

const chatCalls = (): number => fake.requests.filter((r) => r.path.endsWith('/chat/completions')).length;
const batchCreates = (): number => fake.requests.filter((r) => r.method === 'POST' && r.path === '/openai/batches').length;
function records(run: RunFolder): { predictions: PredictionRecord[]; failures: PredictionRecord[] } {
  const read = (f: string): PredictionRecord[] => readJsonLines(run.path(f)).records;
  return { predictions: read('predictions.jsonl'), failures: read('failures.jsonl') };
}

describe('backfill', () => {
  it('answers every image from one batch at half the online price: duplicates sent once, unreadable files rejected unpaid, no online call', async () => {
    const dup = await jpeg(30, 20);
    const dir = await folder(4, { 'copy-of-img-0.jpg': dup, 'broken.jpg': Buffer.from('not an image') });
    const { run, config } = newRun(dir);
    const r = await runBackfill(options(dir, run, config));
    expect(r.requests).toBe(4);
    expect(fake.batch.linesAnswered).toBe(4);
    expect(chatCalls()).toBe(0);
    const { predictions, failures } = records(run);
    expect(predictions.map((p) => p.name).sort()).toEqual(['copy-of-img-0.jpg', 'img-0.jpg', 'img-1.jpg', 'img-2.jpg', 'img-3.jpg']);
    expect(predictions.every((p) => p.model?.deployment === BATCH && ['cat', 'dog'].includes((p.result as { label: string }).label))).toBe(true);
    expect(failures.map((f) => [f.name, f.status])).toEqual([['broken.jpg', 'rejected']]);
    expect(r.batchCostUsd).not.toBeNull();
    expect(r.batchCostUsd).toBeCloseTo((r.onlineEquivalentUsd ?? 0) * 0.5, 12);
    const paid = predictions.filter((p) => !p.reused).reduce((s, p) => s + (p.usage.costUsd ?? 0), 0);
    expect(paid).toBeGreaterThan(0);

    // Run again into the same folder: nothing left to send, nothing paid.
    fake.reset();
    const again = await runBackfill(options(dir, run, config));
    expect(again.requests).toBe(0);
    expect(fake.batch.linesAnswered + chatCalls()).toBe(0);
  });

  it('splits the input over files at the per-file line limit, one batch each', async () => {
    const dir = await folder(5);
    const { run, config } = newRun(dir);
    const r = await runBackfill(options(dir, run, config, { fileLimits: { maxLines: 2, maxBytes: 200 * 1024 * 1024 } }));
    expect(r.state.parts.map((p) => p.customIds.length)).toEqual([2, 2, 1]);
    expect(batchCreates()).toBe(3);
    expect(records(run).predictions).toHaveLength(5);
  });

  it('retries a failed line online, and without online retry lists it for the next backfill, which sends only it', async () => {
    const dir = await folder(3);
    const { run, config } = newRun(dir);
    const sha = (name: string): string => createHash('sha256').update(readFileSync(path.join(dir, name))).digest('hex');
    fake.batch.nextOutcome({ kind: 'fail-lines', customIds: [sha('img-1.jpg')] });
    const online = await runBackfill(options(dir, run, config));
    expect({ fromBatch: online.fromBatch, online: online.online }).toEqual({ fromBatch: 2, online: 1 });
    expect(chatCalls()).toBe(1);
    expect(records(run).predictions).toHaveLength(3);

    const second = newRun(dir);
    fake.reset();
    fake.batch.nextOutcome({ kind: 'fail-lines', customIds: [sha('img-2.jpg')] });
    const { online: _unused, ...noOnline } = options(dir, second.run, second.config);
    const listed = await runBackfill(noOnline);
    expect(listed.unanswered).toBe(1);
    expect(chatCalls()).toBe(0);
    expect(records(second.run).failures.map((f) => [f.name, f.status, f.error?.code])).toEqual([['img-2.jpg', 'failed', 'model_unavailable']]);
    // The next backfill into the same run folder sends only the listed image.
    const next = await runBackfill({ ...noOnline, run: second.run });
    expect(next.requests).toBe(1);
    expect(next.state.parts.at(-1)?.customIds).toEqual([sha('img-2.jpg')]);
    expect(records(second.run).predictions.map((p) => p.name).sort()).toEqual(['img-0.jpg', 'img-1.jpg', 'img-2.jpg']);
  });

  it('resumes by batch id after a crash while waiting, without creating or paying for another batch', async () => {
    const dir = await folder(3);
    const { run, config } = newRun(dir);
    fake.batch.nextOutcome({ kind: 'stall' });
    const stop = new AbortController();
    let polls = 0;
    const first = await runBackfill(options(dir, run, config, { stop: stop.signal, onBatchProgress: () => (++polls >= 2 ? stop.abort() : undefined) }));
    expect(first.label).toBeUndefined();
    const id = readBatchState(run.dir)?.parts[0]?.batchId;
    expect(id).toMatch(/^batch_/);
    expect(records(run).predictions).toHaveLength(0);

    // The crash lost batch.json too: the batch's own input file says which images it holds.
    rmSync(run.path('batch.json'));
    fake.batch.release(id as string);
    const resumed = await runBackfill(options(dir, run, config, { resumeBatchId: id as string }));
    expect(batchCreates()).toBe(1);
    expect(resumed.fromBatch).toBe(3);
    expect(records(run).predictions).toHaveLength(3);
    expect(fake.batch.linesAnswered).toBe(3);
  });

  it('an expired batch keeps its finished answers and sends the rest online; a failed (invalid) batch is listed', async () => {
    const dir = await folder(3);
    const { run, config } = newRun(dir);
    fake.batch.nextOutcome({ kind: 'expire', afterLines: 1 });
    const r = await runBackfill(options(dir, run, config));
    expect(r.state.parts[0]?.status).toBe('expired');
    expect({ fromBatch: r.fromBatch, online: r.online }).toEqual({ fromBatch: 1, online: 2 });
    expect(records(run).predictions).toHaveLength(3);

    // A deployment that is not Global-Batch: validation fails the whole batch, every image is listed.
    const other = newRun(dir);
    const { online: _o, ...noOnline } = options(dir, other.run, other.config, { deployment: 'gpt-4o' });
    const failed = await runBackfill(noOnline);
    expect(failed.state.parts[0]?.status).toBe('failed');
    expect(failed.problems.join('\n')).toMatch(/invalid_request/);
    expect(records(other.run).failures).toHaveLength(3);
  });

  it('runs as `blobsight backfill` with --deployment and --out, and continues that folder on a second run', async () => {
    const dir = await folder(2);
    const out = path.join(work, 'runs', 'my-backfill');
    const env = { AZURE_OPENAI_ENDPOINT: fake.url, AZURE_OPENAI_DEPLOYMENT: fake.deployment, AZURE_OPENAI_API_KEY: fake.apiKey, OPENAI_API_VERSION: fake.apiVersion };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const argv = ['node', 'blobsight', 'backfill', dir, '--profile', 'pets', '--deployment', BATCH, '--out', out, '--poll-interval', '0.01', '--no-progress', '--json'];
      expect(await runCli(argv)).toBe(0);
      expect(readJsonLines(path.join(out, 'predictions.jsonl')).records).toHaveLength(2);
      expect(await runCli(argv)).toBe(0);
      expect(batchCreates()).toBe(1);
      expect(await runCli(['node', 'blobsight', 'backfill', dir, '--profile', 'pets', '--out', path.join(work, 'x')])).toBe(2);
    } finally {
      process.env = saved;
    }
  });

  it('puts imagesPerRequest images on one line: answers split per image, an unsure one or a failed line asked again alone online', async () => {
    const dir = await folder(5);
    const { run, config } = newRun(dir);
    const sha = (name: string): string => createHash('sha256').update(readFileSync(path.join(dir, name))).digest('hex');
    // The second line (img-3, img-4) fails; in the first, image 2 (img-1) is answered unsure.
    fake.batch.nextOutcome({ kind: 'fail-lines', customIds: [groupCustomId([sha('img-3.jpg'), sha('img-4.jpg')])] });
    fake.setAnswer(({ schema, images }) => {
      if (images.length === 1) return { answer: answerFromSchema(schema, { label: 'dog' }) };
      const picks: Record<string, unknown> = {};
      for (let i = 1; i <= images.length; i++) Object.assign(picks, { [`${i}.label`]: 'cat', [`${i}.confidence`]: i === 2 ? 0.2 : 0.95 });
      return { answer: answerFromSchema(schema, picks) };
    });
    const r = await runBackfill(options(dir, run, config, { profile: { ...profile, imagesPerRequest: 3 } }));
    // img-0..2 on one line, img-3..4 on another.
    expect(r.requests).toBe(2);
    expect(r.state.parts[0]?.customIds.every((id) => id.startsWith('g:'))).toBe(true);
    expect(fake.batch.linesAnswered).toBe(1);
    expect({ fromBatch: r.fromBatch, online: r.online }).toEqual({ fromBatch: 2, online: 3 });
    const alone = fake.requests.filter((q) => q.path.endsWith('/chat/completions'));
    expect(alone).toHaveLength(3);
    const byName = new Map(records(run).predictions.map((p) => [p.name, p]));
    expect([...byName.keys()].sort()).toEqual(['img-0.jpg', 'img-1.jpg', 'img-2.jpg', 'img-3.jpg', 'img-4.jpg']);
    const label = (n: string): unknown => (byName.get(n)?.result as { label?: string } | undefined)?.label;
    expect(['img-0.jpg', 'img-2.jpg'].map(label)).toEqual(['cat', 'cat']);
    expect(['img-1.jpg', 'img-3.jpg', 'img-4.jpg'].map(label)).toEqual(['dog', 'dog', 'dog']);
    expect(alone.every((q) => JSON.stringify(q.body).split('"type":"image_url"').length === 2)).toBe(true);
    expect(byName.get('img-0.jpg')?.model?.deployment).toBe(BATCH);
    // Each image carries its share of its line's batch bill; those asked again also carry their online call.
    const batchShare = byName.get('img-0.jpg')?.usage.costUsd ?? 0;
    expect(batchShare).toBeGreaterThan(0);
    expect(byName.get('img-1.jpg')?.usage.costUsd).toBeGreaterThan(batchShare);
  });
});
