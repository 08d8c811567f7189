/**
 * A small burst through the real pipeline against the fake deployment with a quota: the Event Grid handler paces,
 * parks what the quota cannot serve now in a real (Azurite) Storage queue, and the queue handler drains it. What a
 * user would notice: every image ends with exactly one final document, each paid for once, few model calls refused,
 * and the queue ends empty. Time runs 60× (a quota minute is one second); nothing here asserts a duration.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startAzurite } from '../../scripts/dev/startAzurite';
import { silentLogger } from '../../shared/logging';
import { createOpenAIClient, OpenAIClassifier } from '../../shared/model';
import { eventGridFunction, queueFunction } from '../../shared/runtime';
import type { ImageDocument } from '../../shared/store';
import { documentId } from '../../shared/store';
import { QueueParkingLot } from '../../shared/throughput/QueueParkingLot';
import { QuotaPacer } from '../../shared/throughput/QuotaPacer';
import { blobCreatedEvent } from '../support/blobEvents';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

const N = 20;
const TPM = 6_000;
const COMPRESSION = 60;
const MINUTE_MS = 60_000 / COMPRESSION;

let fake: FakeOpenAI;
let app: TestApp;
let queueService: QueueServiceClient;
let stopQueue: () => Promise<void>;
let queueDir: string;

beforeAll(async () => {
  queueDir = await mkdtemp(path.join(tmpdir(), 'blobsight-queue-'));
  const azurite = await startAzurite({ location: queueDir, port: 0, root: path.resolve(__dirname, '..', '..'), service: 'queue', unref: true });
  stopQueue = () => azurite.stop();
  queueService = QueueServiceClient.fromConnectionString(azurite.connectionString);
  fake = await startFakeOpenAI({ quota: { tpm: TPM, timeCompression: COMPRESSION } });
  // The instance's pacer on the same compressed clock as the fake deployment.
  const pacer = new QuotaPacer({ tokensPerMinute: TPM, maxInstances: 4, minuteMs: MINUTE_MS });
  const client = createOpenAIClient(
    { provider: 'azure-openai', endpoint: fake.url, deployment: fake.deployment, apiVersion: fake.apiVersion, apiKey: fake.apiKey },
    { timeoutMs: 5_000, maxRetries: 2, logprobs: false },
    { pacer: { pacer, maxWaitMs: 3_000 / COMPRESSION } },
  );
  const classifier = new OpenAIClassifier({ client, info: { provider: 'azure-openai', deployment: fake.deployment, apiVersion: fake.apiVersion }, model: fake.deployment, prices: {}, logprobs: false, timeoutMs: 5_000 });
  app = await startTestApp(fake, { DEFAULT_PROFILE: 'flowers' }, { classifier });
  const queue = queueService.getQueueClient(`parked-${Date.now().toString(36)}`);
  await queue.create();
  (app.services).parking = { lot: new QueueParkingLot(queue), pacer, queue };
}, 60_000);

afterAll(async () => {
  await app?.cleanup();
  await fake?.close();
  await stopQueue?.();
  await rm(queueDir, { recursive: true, force: true });
});

/** The dev host's drain, inline: receive visible messages, run the queue function, delete what it finished. */
async function drainOnce(): Promise<number> {
  const queue = app.services.parking?.queue;
  if (queue === undefined) throw new Error('no parking queue');
  const got = await queue.receiveMessages({ numberOfMessages: 16, visibilityTimeout: 30 });
  const drain = queueFunction('drainParked');
  await Promise.all(
    got.receivedMessageItems.map(async (m) => {
      await drain.handler(m.messageText, silentLogger, app.services);
      await queue.deleteMessage(m.messageId, m.popReceipt);
    }),
  );
  return got.receivedMessageItems.length;
}

describe('a burst at the quota, parked and drained', () => {
  it('ends with one final document per image, each paid once, 429s bounded, and the parking queue empty', async () => {
    const names = Array.from({ length: N }, (_, i) => `burst/${i}.jpg`);
    const events = await Promise.all(
      names.map(async (name, i) => {
        // Distinct pixels: the content cache must not answer one image from another.
        const u = await app.upload(name, await jpeg(32, 24, { colour: `#${(0x102030 + i * 0x050301).toString(16).slice(-6)}` }));
        return blobCreatedEvent({ container: app.services.images.containerName, name, eTag: u.eTag, contentLength: u.contentLength, accountUrl: app.services.blobService.url.replace(/\/$/, '') });
      }),
    );

    // Event Grid delivers the whole burst at once.
    const classifyBlob = eventGridFunction('classifyBlob');
    const first = await Promise.all(events.map((e) => classifyBlob.handler(e, silentLogger, app.services)));
    const parked = first.filter((r) => r.outcome === 'parked').length;
    expect(parked, 'the quota cannot serve a burst of 20 at once: some are parked').toBeGreaterThan(0);

    // Parked ones are not final yet: nothing transient was written as a result.
    for (const [i, r] of first.entries()) {
      if (r.outcome !== 'parked') continue;
      const doc = await app.services.store.get(documentId(app.services.images.containerName, names[i] as string));
      expect(['classified', 'needs_review', 'rejected', 'failed']).not.toContain(doc?.status);
    }

    // Drain until every document is final (bounded: the queue's delays are whole seconds).
    const final = (d: ImageDocument | undefined): boolean => d !== undefined && ['classified', 'needs_review', 'rejected', 'failed'].includes(d.status);
    const docs = async (): Promise<(ImageDocument | undefined)[]> => Promise.all(names.map((n) => app.services.store.get(documentId(app.services.images.containerName, n))));
    for (let round = 0; round < 200 && !(await docs()).every(final); round++) {
      if ((await drainOnce()) === 0) await new Promise((r) => setTimeout(r, 250));
    }

    const end = await docs();
    expect(end.filter(final).length, 'no image lost').toBe(N);
    expect(end.every((d) => d?.status === 'classified' || d?.status === 'needs_review')).toBe(true);
    // Paid once: one model attempt per image, and the deployment admitted exactly one request per image.
    expect(end.map((d) => d?.modelAttempts)).toEqual(names.map(() => 1));
    const stats = fake.quota?.stats;
    expect(stats?.admitted).toBe(N);
    // A 429 costs time, not money; the pacer keeps them rare even with the burst arriving at once.
    expect((stats?.throttled ?? 0) / ((stats?.admitted ?? 0) + (stats?.throttled ?? 0))).toBeLessThanOrEqual(0.2);
    const props = await app.services.parking?.queue?.getProperties();
    expect(props?.approximateMessagesCount).toBe(0);
  });

  it('sends a message that is not a parked event to the poison path (the handler throws) instead of dropping it silently', async () => {
    await expect(queueFunction('drainParked').handler('not a parked event', silentLogger, app.services)).rejects.toThrow(/poison/);
  });
});
