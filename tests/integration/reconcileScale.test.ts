/**
 * Reconcile at scale: 20,000 blobs, 10 of them without a document, spread through the listing. Every run starts in
 * a fresh module instance (as after Flex Consumption scaled to zero), so only the durable cursor carries the scan on.
 * Counts every storage and Cosmos DB request the runs make, through loopback proxies, and prints requests per
 * 1,000 blobs scanned. Uploading 20,000 blobs to Azurite is most of its run time; the timeouts are generous
 * because a loaded machine makes Azurite many times slower.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Container, JSONObject } from '@azure/cosmos';
import type { ContainerClient } from '@azure/storage-blob';
import { createHttpServer } from '@vercel/cosmosdb-server';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';

import type { ReconcileOptions, ReconcileReport } from '../../shared/pipeline';
import type { ImageDocument } from '../../shared/store';
import { COSMOS_EMULATOR_KEY, createCosmosContainer, documentId, ImageStore } from '../../shared/store';
import type { CountingProxy, SeenRequest } from '../support/countingProxy';
import { startCountingProxy } from '../support/countingProxy';
import { testBlobServiceClient, testConfig, uniqueName } from '../support/emulators';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import { useLinearCosmosQueries } from '../support/linearCosmosQueries';

// 4,000 inside `npm test` (the same cursor arithmetic over five runs, a few minutes of uploads at most);
// `npm run reconcile-scale` runs the 20,000.
const N = Number(process.env['RECONCILE_SCALE_N'] ?? '4000');
const MAX_SCAN = N / 4;
const WARM_UP_SCAN = MAX_SCAN / 2;
/** Spread through the listing, on and beside page and run boundaries (for N = 20,000: 7, 2,345, 4,999, 5,000 ...). */
const ORPHANS = [7, 2_345, 4_999, 5_000, 8_888, 10_001, 13_579, 15_000, 17_321, 19_999].map((i) => Math.floor((i * N) / 20_000));
const UPLOAD_CONCURRENCY = 48;
const HOUR = 3_600_000;

const nameOf = (i: number): string => `shots/${String(i).padStart(5, '0')}.jpg`;

let cosmosServer: Server;
let cosmos: Container;
let fake: FakeOpenAI;
let images: ContainerClient;
let deadLetter: ContainerClient;
let storageProxy: CountingProxy;
let cosmosProxy: CountingProxy;
let database: string;

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

function seedDocument(name: string, eTag: string, at: string): ImageDocument {
  return {
    id: documentId(images.containerName, name),
    type: 'image',
    blob: { container: images.containerName, name, url: images.getBlobClient(name).url, eTag, contentLength: 1, contentType: 'image/jpeg', sequencer: null },
    profile: { name: 'product-tags', version: '1' },
    status: 'classified',
    result: null,
    labels: [],
    confidence: 0.9,
    confidenceSource: null,
    model: null,
    usage: { promptTokens: 0, completionTokens: 0, costUsd: 0, modelCalls: 1 },
    timings: { downloadMs: null, preprocessMs: null, modelMs: null, totalMs: 0 },
    image: null,
    error: null,
    source: { eventId: null, eventTime: null },
    createdAt: at,
    updatedAt: at,
  };
}

beforeAll(async () => {
  // A Cosmos server of our own, made linear in the number of documents (see linearCosmosQueries).
  useLinearCosmosQueries();
  cosmosServer = createHttpServer();
  await new Promise<void>((resolve) => cosmosServer.listen(0, '127.0.0.1', resolve));
  const cosmosEndpoint = `http://127.0.0.1:${(cosmosServer.address() as AddressInfo).port}`;
  database = uniqueName('scale');
  cosmos = await createCosmosContainer({ endpoint: cosmosEndpoint, key: COSMOS_EMULATOR_KEY, database, container: 'images', createIfMissing: true });
  fake = await startFakeOpenAI();
  fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));

  const service = testBlobServiceClient();
  images = service.getContainerClient(uniqueName('scale'));
  deadLetter = service.getContainerClient(uniqueName('scale-dl'));
  await images.create();
  await deadLetter.create();

  const t0 = Date.now();
  const orphanBytes = await jpeg(16, 16);
  const orphans = new Set(ORPHANS);
  const eTags: string[] = new Array<string>(N);
  const indices = Array.from({ length: N }, (_, i) => i);
  await pool(indices, UPLOAD_CONCURRENCY, async (i) => {
    const r = await images.getBlockBlobClient(nameOf(i)).uploadData(orphans.has(i) ? orphanBytes : Buffer.from([i % 251]), { blobHTTPHeaders: { blobContentType: 'image/jpeg' } });
    eTags[i] = r.etag ?? '';
    if ((i + 1) % 5_000 === 0) console.info(`reconcile scale: ${i + 1} of ${N} blobs uploaded, ${Math.round((Date.now() - t0) / 1000)} s`);
  });

  console.info(`reconcile scale: uploaded ${N} blobs in ${Date.now() - t0} ms`);
  // Every other blob has its document, written long ago; bulk writes, 100 per request (the SDK's limit).
  const at = new Date(Date.now() - 48 * HOUR).toISOString();
  const seeded = indices.filter((i) => !orphans.has(i));
  const chunks: number[][] = [];
  for (let i = 0; i < seeded.length; i += 100) chunks.push(seeded.slice(i, i + 100));
  await pool(chunks, 4, async (chunk) => {
    const results = await cosmos.items.bulk(chunk.map((i) => ({ operationType: 'Create' as const, resourceBody: seedDocument(nameOf(i), eTags[i] ?? '', at) as unknown as JSONObject })));
    const bad = results.find((r) => r.statusCode !== 201);
    if (bad !== undefined) throw new Error(`seeding failed with ${bad.statusCode}`);
  });

  console.info(`reconcile scale: and wrote ${N - ORPHANS.length} documents, ${Date.now() - t0} ms in all`);
  const blobEndpoint = /BlobEndpoint=(http:\/\/[^/;]+)/.exec(inject('blobConnectionString'))?.[1];
  if (blobEndpoint === undefined) throw new Error('the scale test needs Azurite over http (BlobEndpoint=http://...)');
  storageProxy = await startCountingProxy(blobEndpoint);
  cosmosProxy = await startCountingProxy(cosmosEndpoint);
}, 2_400_000);

afterAll(async () => {
  await images?.deleteIfExists();
  await deadLetter?.deleteIfExists();
  await storageProxy?.close();
  await cosmosProxy?.close();
  await fake?.close();
  await new Promise<void>((resolve) => {
    cosmosServer?.closeAllConnections();
    cosmosServer?.close(() => resolve());
  });
});

/** One run on a fresh instance: new modules (no memory of earlier runs), new clients, through the counting proxies. */
async function runOnFreshInstance(o: Pick<ReconcileOptions, 'maxScan' | 'staleAfterMs'>, clockOffsetMs: number): Promise<RunResult> {
  vi.resetModules();
  const { createServices, pipelineDeps } = await import('../../shared/runtime/createServices.js');
  const { reconcile } = await import('../../shared/pipeline/reconcile.js');
  const connection = inject('blobConnectionString').replace(/BlobEndpoint=http:\/\/[^/;]+/, `BlobEndpoint=${storageProxy.url}`);
  const services = await createServices(
    testConfig({
      AzureWebJobsStorage: connection,
      IMAGES_CONTAINER: images.containerName,
      COSMOS_ENDPOINT: cosmosProxy.url,
      COSMOS_KEY: COSMOS_EMULATOR_KEY,
      COSMOS_DATABASE: database,
      AZURE_OPENAI_ENDPOINT: fake.url,
      AZURE_OPENAI_DEPLOYMENT: fake.deployment,
      AZURE_OPENAI_API_KEY: fake.apiKey,
      MODEL_MAX_RETRIES: '0',
    }),
  );
  // Start-up requests (database and container checks) are not the run's.
  const before = [storageProxy.seen.length, cosmosProxy.seen.length] as const;
  const deps = { ...pipelineDeps(services), now: (): Date => new Date(Date.now() + clockOffsetMs) };
  const report = await reconcile(deps, {
    deadLetter: services.blobService.getContainerClient(deadLetter.containerName),
    retryHorizonMs: 24 * HOUR,
    maxItems: 100,
    ...o,
  });
  return { report, storage: storageProxy.seen.slice(before[0]), cosmos: cosmosProxy.seen.slice(before[1]) };
}

interface RunResult {
  report: ReconcileReport;
  storage: SeenRequest[];
  cosmos: SeenRequest[];
}

const found = async (): Promise<number[]> => {
  const store = new ImageStore(cosmos);
  const have: number[] = [];
  for (const i of ORPHANS) if ((await store.get(documentId(images.containerName, nameOf(i)))) !== undefined) have.push(i);
  return have;
};

interface Counted {
  storageList: number;
  storageOther: number;
  cosmosQuery: number;
  cosmosCursor: number;
  cosmosOther: number;
}

function count(storage: readonly SeenRequest[], cosmosRequests: readonly SeenRequest[]): Counted {
  const c: Counted = { storageList: 0, storageOther: 0, cosmosQuery: 0, cosmosCursor: 0, cosmosOther: 0 };
  for (const r of storage) {
    if (/[?&]comp=list/.test(r.url)) c.storageList++;
    else c.storageOther++;
  }
  for (const r of cosmosRequests) {
    const partitionKey = r.headers['x-ms-documentdb-partitionkey'];
    if (r.url.includes('scan-cursor-') || (typeof partitionKey === 'string' && partitionKey.includes('scan-cursor-'))) c.cosmosCursor++;
    else if (r.headers['x-ms-documentdb-isquery'] !== undefined || r.headers['x-ms-cosmos-is-query-plan-request'] !== undefined) c.cosmosQuery++;
    else c.cosmosOther++;
  }
  return c;
}

describe('reconcile at scale', () => {
  it(`finds every orphan among ${N.toLocaleString('en-US')} blobs within the runs the cursor predicts, with a few requests per 1,000 blobs`, async () => {
    // A first run while every blob still counts as young (Event Grid may yet deliver; a stale threshold longer than the
    // uploads took): nothing to do, the cursor moves on.
    const { report: warmUp } = await runOnFreshInstance({ maxScan: WARM_UP_SCAN, staleAfterMs: 24 * HOUR }, 0);
    expect(warmUp).toMatchObject({ orphans: 0, scanned: WARM_UP_SCAN });
    expect(await found()).toEqual([]);

    // From a cursor 2,500 blobs in, covering 20,000 takes ceil(20,000 / 5,000) runs plus the one cut short at the end:
    // each run resumes where the last stopped, and a run that reaches the end stops there; the next starts at the top.
    const predictedRuns = Math.ceil(N / MAX_SCAN) + 1;
    const predicted: Array<{ orphans: number; wrapped: boolean; scanned: number }> = [];
    for (let run = 0, start = WARM_UP_SCAN, seen = new Set<number>(); run < predictedRuns; run++) {
      const end = Math.min(start + MAX_SCAN, N);
      const fresh = ORPHANS.filter((i) => i >= start && i < end && !seen.has(i));
      fresh.forEach((i) => seen.add(i));
      predicted.push({ orphans: fresh.length, wrapped: end === N, scanned: end - start });
      start = end === N ? 0 : end;
    }
    const perRun: Array<{ orphans: number; wrapped: boolean; scanned: number }> = [];
    const storageSeen: SeenRequest[] = [];
    const cosmosSeen: SeenRequest[] = [];
    for (let run = 0; run < predictedRuns && (await found()).length < ORPHANS.length; run++) {
      const { report: r, storage, cosmos: cosmosRequests } = await runOnFreshInstance({ maxScan: MAX_SCAN, staleAfterMs: 15 * 60_000 }, HOUR);
      perRun.push({ orphans: r.orphans, wrapped: r.scan.wrapped, scanned: r.scanned });
      storageSeen.push(...storage);
      cosmosSeen.push(...cosmosRequests);
    }
    const scanned = perRun.reduce((s, r) => s + r.scanned, 0);
    const c = count(storageSeen, cosmosSeen);
    const total = c.storageList + c.storageOther + c.cosmosQuery + c.cosmosCursor + c.cosmosOther;
    const perThousand = (n: number): number => Math.round((n / scanned) * 1000 * 100) / 100;
    console.info(
      `reconcile scale: ${predictedRuns} runs scanned ${scanned} blobs; requests: storage list ${c.storageList}, other storage ${c.storageOther}, ` +
        `Cosmos queries ${c.cosmosQuery}, cursor ${c.cosmosCursor}, other Cosmos ${c.cosmosOther}; ` +
        `${perThousand(total)} requests per 1,000 blobs scanned (${perThousand(c.storageList + c.cosmosQuery + c.cosmosCursor)} for the scan itself, the rest processes the 10 orphans)`,
    );
    expect(await found()).toEqual(ORPHANS);
    // For N = 20,000: orphans [2, 2, 3, 1, 2], scanned [5,000, 5,000, 5,000, 2,500 (the end), 5,000].
    expect(perRun).toEqual(predicted);

    // The scan costs a list call and a lookup per 1,000 blobs (plus each run's fixed few), not one read per blob.
    // Structurally: at most a list call and a query (with its plan request) per listing page, and a few cursor
    // requests per run; one read per blob would be thousands.
    const pages = Math.ceil(scanned / 1000) + perRun.length + 1;
    expect(c.storageList + c.cosmosQuery + c.cosmosCursor).toBeLessThanOrEqual(pages * 3 + (perRun.length + 1) * 3);
    if (N >= 20_000) expect(perThousand(c.storageList + c.cosmosQuery + c.cosmosCursor)).toBeLessThan(6);
    expect(perThousand(total)).toBeLessThan(40);

    // The next run goes on through the second pass and finds nothing new.
    const { report: again } = await runOnFreshInstance({ maxScan: MAX_SCAN, staleAfterMs: 15 * 60_000 }, HOUR);
    expect(again).toMatchObject({ orphans: 0, scanned: MAX_SCAN, scan: { pass: 2 } });
  }, 1_200_000);
});
