/**
 * `blobsight backfill <container>` stores into the service on the emulators: each blob gets the one final Cosmos
 * document and content-cache entry the service's own event would have written, at batch prices; a later event for the
 * same content calls no model; a re-run sends nothing already final; a failed line goes through the service's path.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { AzureOpenAI } from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { BatchApi } from '../../shared/batch/BatchApi';
import type { BackfillOptions } from '../../shared/batch/runBackfill';
import { runBackfill } from '../../shared/batch/runBackfill';
import type { ServiceTarget } from '../../shared/batch/serviceTarget';
import { runCli } from '../../shared/cli/program';
import { listContainer } from '../../shared/cli/sources/listContainer';
import { DEFAULT_PRICES } from '../../shared/config';
import type { RunConfig } from '../../shared/runs';
import { RunFolder } from '../../shared/runs';
import { pipelineDeps } from '../../shared/runtime';
import type { ImageDocument } from '../../shared/store';
import { documentId } from '../../shared/store';
import { testEnv } from '../support/emulators';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

const BATCH = 'gpt-4o-batch';
let fake: FakeOpenAI;
let app: TestApp;
let work: string;

beforeAll(async () => {
  fake = await startFakeOpenAI({ batch: { batchDeployments: [BATCH], batchTiming: { validatingMs: 5, inProgressMs: 20, finalizingMs: 5, cancellingMs: 5 }, fileProcessingMs: 1 } });
});
afterAll(async () => fake.close());
beforeEach(async () => {
  fake.reset();
  fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'cat' }) }));
  app = await startTestApp(fake, { DEFAULT_PROFILE: 'pets' });
  work = mkdtempSync(path.join(tmpdir(), 'blobsight-backfill-service-'));
});
afterEach(async () => app.cleanup());

const chatCalls = (): number => fake.requests.filter((r) => r.path.endsWith('/chat/completions')).length;
const batchCreates = (): number => fake.requests.filter((r) => r.method === 'POST' && r.path === '/openai/batches').length;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function target(): ServiceTarget {
  const { budget: _cap, ...deps } = pipelineDeps(app.services);
  return { deps };
}

async function options(extra: Partial<BackfillOptions> = {}): Promise<BackfillOptions> {
  const profile = app.services.profiles.get('pets');
  if (profile === undefined) throw new Error('pets profile missing');
  const limits = app.services.config.limits;
  const { folder, config } = RunFolder.create(path.join(work, 'runs'), 'pets', new Date(), {
    cliVersion: 'test',
    profile: { name: profile.name, version: profile.version, kind: profile.kind, detail: profile.detail, confidenceThreshold: profile.confidenceThreshold },
    model: { provider: 'azure-openai', deployment: BATCH, apiVersion: fake.apiVersion, maxTokens: null, logprobs: true },
    promptHash: null,
    profileHash: 'x',
    source: { kind: 'container', location: app.services.images.url },
    concurrency: 2,
    maxCostUsd: null,
    limits,
  } satisfies Omit<RunConfig, 'id' | 'name' | 'createdAt'>);
  const images = app.services.images;
  return {
    items: (await listContainer(images.url, images, '', limits.maxBytes)).items,
    profile,
    run: folder,
    config,
    limits,
    logprobs: true,
    api: new BatchApi(new AzureOpenAI({ baseURL: `${fake.url}/openai`, apiKey: fake.apiKey, apiVersion: fake.apiVersion, maxRetries: 0 }), { filePollMs: 2 }),
    deployment: BATCH,
    info: { provider: 'azure-openai', deployment: BATCH, apiVersion: fake.apiVersion },
    prices: DEFAULT_PRICES,
    online: app.services.classifier,
    pollMs: 5,
    concurrency: 3,
    stop: new AbortController().signal,
    abort: new AbortController().signal,
    service: target(),
    ...extra,
  };
}

async function doc(name: string): Promise<ImageDocument | undefined> {
  return app.services.store.get(documentId(app.services.images.containerName, name));
}

describe('backfill into the service', () => {
  it('writes one final document per blob at batch prices through the service path; a later event is a cache hit; a re-run sends nothing', async () => {
    const bytes = await Promise.all([jpeg(31, 21), jpeg(32, 22), jpeg(33, 23)]);
    const ups = await Promise.all(bytes.map((b, i) => app.upload(`img-${i}.jpg`, b)));
    // The same bytes under another name: one line, stored once, the other blob a cache hit of it.
    await app.upload('dup-of-img-1.jpg', bytes[1]);
    // One blob the service already labelled itself: not in the batch, not touched.
    const live = await app.put('already.jpg', await jpeg(34, 24));
    expect(live.outcome).toBe('classified');
    const before = chatCalls();

    const r = await runBackfill(await options());
    expect(r.requests).toBe(3);
    expect(fake.batch.linesAnswered).toBe(3);
    expect(chatCalls()).toBe(before);
    expect(r.service?.counts).toMatchObject({ classified: 4, notStored: 0 });
    expect(r.skipped.map((s) => s.name)).toEqual(['already.jpg']);

    const docs = await Promise.all(bytes.map((_, i) => doc(`img-${i}.jpg`)));
    const paidDocs = [...docs, await doc('dup-of-img-1.jpg')].filter((d) => (d?.usage?.costUsd ?? 0) > 0);
    const all = await app.services.store.query<{ id: string }>({ query: "SELECT c.id FROM c WHERE c.type = 'image'" });
    expect(all).toHaveLength(5);
    const dup = await doc('dup-of-img-1.jpg');
    const original = await doc('img-1.jpg');
    // Whichever of the two was stored first paid; the other reused its answer at no cost.
    expect([dup?.cached?.documentId, original?.cached?.documentId].filter((x) => x !== undefined && x !== null)).toHaveLength(1);
    expect((dup?.usage?.costUsd ?? 0) + (original?.usage?.costUsd ?? 0)).toBeGreaterThan(0);
    expect(Math.min(dup?.usage?.costUsd ?? -1, original?.usage?.costUsd ?? -1)).toBe(0);
    for (const d of docs) {
      expect(d?.status).toBe('classified');
      expect(d?.model?.deployment).toBe(BATCH);
    }
    // The documents carry the batch bill (once per content), half of what the same tokens cost online.
    expect(paidDocs).toHaveLength(3);
    const stored = paidDocs.reduce((s, d) => s + (d?.usage?.costUsd ?? 0), 0);
    expect(stored).toBeCloseTo(r.batchCostUsd ?? -1, 12);
    expect(stored).toBeCloseTo((r.onlineEquivalentUsd ?? 0) * 0.5, 12);
    expect((await doc('already.jpg'))?.model?.deployment).toBe(fake.deployment);

    // The blob's own (late) event is a duplicate; the same bytes uploaded again hit the content cache: no model call.
    const first = ups[0];
    if (first === undefined || bytes[0] === undefined) throw new Error('no upload');
    expect((await app.deliver('img-0.jpg', first)).outcome).toBe('duplicate');
    const copy = await app.put('copy-of-img-0.jpg', bytes[0]);
    expect(copy.outcome).toBe('classified');
    expect(copy.outcome === 'classified' ? copy.document.cached?.documentId : undefined).toBe(documentId(app.services.images.containerName, 'img-0.jpg'));
    expect(chatCalls()).toBe(before);

    // Again: everything is final in the service; no batch, no line, no call.
    const creates = batchCreates();
    const lines = fake.batch.linesAnswered;
    const again = await runBackfill(await options());
    expect(again.requests).toBe(0);
    expect(batchCreates()).toBe(creates);
    expect(fake.batch.linesAnswered - lines + chatCalls() - before).toBe(0);
    expect(again.skipped).toHaveLength(6);
  });

  it('a failed line is retried online through the service path, or without online retry left for the next backfill, which sends only it', async () => {
    const bytes = await Promise.all([jpeg(41, 21), jpeg(42, 22)]);
    await Promise.all(bytes.map((b, i) => app.upload(`img-${i}.jpg`, b)));
    fake.batch.nextOutcome({ kind: 'fail-lines', customIds: [sha(bytes[1])] });
    const { online: _none, ...noOnline } = await options();
    const listed = await runBackfill(noOnline);
    expect(listed.service?.notStored.map((n) => [n.name, n.code])).toEqual([['img-1.jpg', 'model_unavailable']]);
    expect((await doc('img-1.jpg'))?.status).not.toMatch(/classified|needs_review|rejected|failed/);
    expect(chatCalls()).toBe(0);

    // With online retry (the service's own classifier): the failed line is asked online once and stored.
    fake.batch.nextOutcome({ kind: 'fail-lines', customIds: [sha(bytes[1])] });
    const retried = await runBackfill(await options());
    expect(retried.requests).toBe(1);
    expect(retried.online).toBe(1);
    expect(chatCalls()).toBe(1);
    const d = await doc('img-1.jpg');
    expect(d?.status).toBe('classified');
    expect(d?.model?.deployment).toBe(fake.deployment);
    expect(d?.modelAttempts).toBe(1);
    expect((await doc('img-0.jpg'))?.model?.deployment).toBe(BATCH);
  });

  it('runs as `blobsight backfill <container URL>` into the service, and refuses a container the service does not watch', async () => {
    await app.upload('cli.jpg', await jpeg(51, 21));
    const c = app.services.config;
    const env = testEnv({ COSMOS_DATABASE: c.cosmos.database, IMAGES_CONTAINER: c.imagesContainer, DEFAULT_PROFILE: 'pets', AZURE_OPENAI_ENDPOINT: fake.url, AZURE_OPENAI_DEPLOYMENT: fake.deployment, AZURE_OPENAI_API_KEY: fake.apiKey, OPENAI_API_VERSION: fake.apiVersion });
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const cs = ['--connection-string', env['AzureWebJobsStorage'] as string];
      const common = ['--profile', 'pets', '--deployment', BATCH, '--runs-dir', path.join(work, 'runs'), '--poll-interval', '0.01', '--no-progress', '--json', ...cs];
      expect(await runCli(['node', 'blobsight', 'backfill', app.services.images.url, ...common])).toBe(0);
      expect((await doc('cli.jpg'))?.model?.deployment).toBe(BATCH);
      // Documents for a container no event of the service names would be dead weight: refused before reading it.
      const stderr: string[] = [];
      const write = process.stderr.write.bind(process.stderr);
      process.stderr.write = ((chunk: string | Uint8Array) => stderr.push(String(chunk)) > 0);
      try {
        expect(await runCli(['node', 'blobsight', 'backfill', `${app.services.images.url}-other`, ...common])).toBe(2);
      } finally {
        process.stderr.write = write;
      }
      expect(stderr.join('')).toMatch(/IMAGES_CONTAINER/);
    } finally {
      process.env = saved;
    }
  });
});
