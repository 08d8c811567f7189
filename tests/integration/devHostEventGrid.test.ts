/**
 * The Event Grid stand-in on Azurite: blob writes become BlobCreated/BlobDeleted deliveries in Event Grid's schema,
 * at least once, retried on Event Grid's (compressed) schedule, then dead-lettered as Event Grid does.
 */
import type { IncomingMessage, Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { ContainerClient } from '@azure/storage-blob';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { StorageBlobEvent } from '../../scripts/dev/blobEvents';
import type { DeadLetteredEvent } from '../../scripts/dev/deadLetter';
import { EVENT_GRID_WEBHOOK_PATH, startDevHost } from '../../scripts/dev/devHost';
import type { EventGridStandInOptions } from '../../scripts/dev/EventGridStandIn';
import { EventGridStandIn } from '../../scripts/dev/EventGridStandIn';
import { parseBlobEvent } from '../../shared/events';
import type { BlobOutcome } from '../../shared/pipeline';
import type { Services } from '../../shared/runtime';
import type { Disposable } from '../support/emulators';
import { createTestContainer } from '../support/emulators';

interface Received {
  event: StorageBlobEvent;
  headers: IncomingMessage['headers'];
  at: number;
}

/** A webhook that records every delivery and answers what `respond` says (200 by default). */
interface Webhook {
  url: string;
  received: Received[];
  respond: (r: Received, index: number) => number | Promise<number>;
  inFlight: number;
  maxInFlight: number;
  close(): Promise<void>;
}

async function startWebhook(): Promise<Webhook> {
  const hook: Webhook = { url: '', received: [], respond: () => 200, inFlight: 0, maxInFlight: 0, close: () => Promise.resolve() };
  const server: Server = createServer((req, res) => {
    hook.inFlight++;
    hook.maxInFlight = Math.max(hook.maxInFlight, hook.inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const events = JSON.parse(Buffer.concat(chunks).toString('utf8')) as StorageBlobEvent[];
      const r: Received = { event: events[0] as StorageBlobEvent, headers: req.headers, at: Date.now() };
      hook.received.push(r);
      void Promise.resolve(hook.respond(r, hook.received.length - 1)).then((status) => {
        hook.inFlight--;
        res.writeHead(status).end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  hook.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return hook;
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let images: Disposable<ContainerClient>;
let deadLetter: Disposable<ContainerClient>;
let hook: Webhook;
let standIn: EventGridStandIn | undefined;
const logLines: string[] = [];

beforeEach(async () => {
  images = await createTestContainer('eg-images');
  deadLetter = await createTestContainer('eg-deadletter');
  hook = await startWebhook();
  logLines.length = 0;
});
afterEach(async () => {
  await standIn?.stop();
  standIn = undefined;
  await hook.close();
  await images.cleanup();
  await deadLetter.cleanup();
});

async function start(options: Partial<EventGridStandInOptions> = {}): Promise<EventGridStandIn> {
  standIn = new EventGridStandIn({ images: images.value, deadLetter: deadLetter.value, endpoint: hook.url, pollMs: 50, log: (l) => logLines.push(l), ...options });
  await standIn.start();
  return standIn;
}

async function put(name: string, text: string, contentType = 'image/jpeg'): Promise<string> {
  const r = await images.value.getBlockBlobClient(name).upload(text, Buffer.byteLength(text), { blobHTTPHeaders: { blobContentType: contentType } });
  return r.etag ?? '';
}

async function deadLetters(): Promise<Array<{ name: string; records: DeadLetteredEvent[] }>> {
  const out: Array<{ name: string; records: DeadLetteredEvent[] }> = [];
  for await (const b of deadLetter.value.listBlobsFlat()) {
    const buf = await deadLetter.value.getBlobClient(b.name).downloadToBuffer();
    out.push({ name: b.name, records: JSON.parse(buf.toString('utf8')) as DeadLetteredEvent[] });
  }
  return out;
}

describe('blob events', () => {
  it('delivers one BlobCreated in the published schema for a new blob, once', async () => {
    await start();
    const eTag = await put('flowers/rose 1.jpg', 'not really a jpeg');
    await waitFor('the delivery', () => hook.received.length >= 1);
    await sleep(300); // several more listings
    expect(hook.received).toHaveLength(1);
    const { event, headers } = hook.received[0] as Received;
    expect(headers['aeg-event-type']).toBe('Notification');
    expect(headers['aeg-delivery-count']).toBe('0');
    expect(event).toMatchObject({
      subject: `/blobServices/default/containers/${images.value.containerName}/blobs/flowers/rose 1.jpg`,
      eventType: 'Microsoft.Storage.BlobCreated',
      dataVersion: '',
      metadataVersion: '1',
      data: { api: 'PutBlob', eTag, contentType: 'image/jpeg', contentLength: 17, blobType: 'BlockBlob', url: images.value.getBlobClient('flowers/rose 1.jpg').url },
    });
    // Quoted, as storage and Event Grid give it, so the pipeline's duplicate check and conditional download match.
    expect(eTag).toMatch(/^".+"$/);
    expect(event.topic).toMatch(/^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[^/]+\/providers\/Microsoft\.Storage\/storageAccounts\/devstoreaccount1$/);
    expect(event.data['sequencer']).toMatch(/^[0-9a-f]{32}$/);
    expect(Date.parse(event.eventTime)).not.toBeNaN();
    // The app's own parser takes it as a complete write of that blob.
    const parsed = parseBlobEvent(event);
    expect(parsed).toMatchObject({ kind: 'ok', event: { blobName: 'flowers/rose 1.jpg', eTag, api: 'PutBlob' } });
  });

  it('delivers again when the blob changes (new eTag), with a later sequencer', async () => {
    await start();
    const first = await put('a.jpg', 'one');
    await waitFor('the first delivery', () => hook.received.length >= 1);
    const second = await put('a.jpg', 'two, longer');
    await waitFor('the second delivery', () => hook.received.length >= 2);
    await sleep(200);
    expect(hook.received.map((r) => r.event.data['eTag'])).toEqual([first, second]);
    const [s1, s2] = hook.received.map((r) => String(r.event.data['sequencer']));
    expect((s2 as string) > (s1 as string)).toBe(true);
  });

  it('reports a blob committed from blocks as PutBlockList', async () => {
    await start();
    const blob = images.value.getBlockBlobClient('big.jpg');
    const id = Buffer.from('block-0001').toString('base64');
    await blob.stageBlock(id, 'part', 4);
    await blob.commitBlockList([id]);
    await waitFor('the delivery', () => hook.received.length >= 1);
    expect(hook.received[0]?.event.data['api']).toBe('PutBlockList');
  });

  it('delivers BlobDeleted when a blob goes away', async () => {
    await start();
    await put('gone.jpg', 'x');
    await waitFor('BlobCreated', () => hook.received.length >= 1);
    await images.value.deleteBlob('gone.jpg');
    await waitFor('BlobDeleted', () => hook.received.length >= 2);
    expect(hook.received[1]?.event).toMatchObject({
      eventType: 'Microsoft.Storage.BlobDeleted',
      subject: `/blobServices/default/containers/${images.value.containerName}/blobs/gone.jpg`,
      data: { api: 'DeleteBlob', blobType: 'BlockBlob' },
    });
  });

  it('announces every blob already there once at start', async () => {
    await put('old/1.jpg', '1');
    await put('old/2.jpg', '2');
    const s = await start();
    await waitFor('both deliveries', () => hook.received.length >= 2);
    await sleep(200);
    expect(hook.received.map((r) => r.event.subject.split('/blobs/')[1]).sort()).toEqual(['old/1.jpg', 'old/2.jpg']);
    expect(s.stats.announced).toBe(2);
  });

  it('delivers at most 4 at once', async () => {
    hook.respond = () => sleep(150).then(() => 200);
    await start();
    await Promise.all(Array.from({ length: 10 }, (_, i) => put(`burst/${i}.jpg`, String(i))));
    await waitFor('all ten', () => hook.received.length >= 10 && hook.inFlight === 0);
    expect(hook.maxInFlight).toBeLessThanOrEqual(4);
    expect(hook.maxInFlight).toBeGreaterThan(1);
  });
});

describe('retries and dead-lettering', () => {
  it('retries a failing delivery on the compressed schedule, then dead-letters it with Event Grid fields', async () => {
    hook.respond = () => 500;
    // retryScale 0.01 and no jitter: 10 s, 30 s, 1 min become 100, 300, 600 ms.
    const s = await start({ retryScale: 0.01, maxAttempts: 4, random: () => 0.5 });
    await put('broken.jpg', 'x');
    await waitFor('the dead letter', async () => (await deadLetters()).length > 0, 15_000);

    expect(hook.received).toHaveLength(4);
    expect(hook.received.map((r) => r.headers['aeg-delivery-count'])).toEqual(['0', '1', '2', '3']);
    expect(new Set(hook.received.map((r) => r.event.id)).size).toBe(1);
    const gaps = hook.received.slice(1).map((r, i) => r.at - (hook.received[i] as Received).at);
    [100, 300, 600].forEach((expected, i) => expect(gaps[i]).toBeGreaterThanOrEqual(expected - 15));

    const [dl] = await deadLetters();
    expect(dl?.name).toMatch(/^DEVSTOREACCOUNT1\/BLOBSIGHT-LOCAL\/\d{4}\/\d{1,2}\/\d{1,2}\/\d{1,2}\/[0-9a-f-]{36}\.json$/);
    expect(dl?.records).toHaveLength(1);
    const record = dl?.records[0] as DeadLetteredEvent;
    expect(record).toMatchObject({
      id: hook.received[0]?.event.id,
      subject: hook.received[0]?.event.subject,
      eventType: 'Microsoft.Storage.BlobCreated',
      deadLetterReason: 'MaxDeliveryAttemptsExceeded',
      deliveryAttempts: 4,
      lastDeliveryOutcome: 'GenericError',
      lastHttpStatusCode: 500,
    });
    expect(Date.parse(record.publishTime)).toBeLessThanOrEqual(Date.parse(record.lastDeliveryAttemptTime));
    expect(s.stats).toMatchObject({ delivered: 0, failedAttempts: 4, deadLettered: 1 });
  });

  it('does not retry a 400 (the request itself is wrong) and dead-letters it at once', async () => {
    hook.respond = () => 400;
    await start({ maxAttempts: 5 });
    await put('bad.jpg', 'x');
    await waitFor('the dead letter', async () => (await deadLetters()).length > 0);
    await sleep(200);
    expect(hook.received).toHaveLength(1);
    const [dl] = await deadLetters();
    expect(dl?.records[0]).toMatchObject({ deliveryAttempts: 1, lastHttpStatusCode: 400, lastDeliveryOutcome: 'BadRequest' });
  });

  it('stops retrying once a delivery succeeds', async () => {
    hook.respond = (_r, i) => (i < 2 ? 503 : 202);
    const s = await start({ maxAttempts: 5, random: () => 0.5 });
    await put('flaky.jpg', 'x');
    await waitFor('success', () => s.stats.delivered === 1);
    await sleep(700);
    expect(hook.received).toHaveLength(3);
    expect(await deadLetters()).toHaveLength(0);
  });

  it('lets deliveries in flight finish on stop', async () => {
    hook.respond = () => sleep(300).then(() => 200);
    const s = await start();
    await put('slow.jpg', 'x');
    await waitFor('the delivery to start', () => hook.received.length === 1);
    await s.stop();
    expect(s.stats.delivered).toBe(1);
  });
});

describe('through the dev host webhook', () => {
  it('delivers to the Event Grid function, and a thrown error means redelivery', async () => {
    const calls: unknown[] = [];
    const host = await startDevHost({
      services: {} as Services,
      functionKey: 'k',
      port: 0,
      functions: [
        {
          name: 'classifyBlob',
          trigger: 'eventGrid',
          handler: (event): Promise<BlobOutcome> => {
            calls.push(event);
            return calls.length === 1 ? Promise.reject(new Error('model throttled')) : Promise.resolve({ outcome: 'ignored', reason: 'test' });
          },
        },
      ],
    });
    try {
      const s = await start({ endpoint: `${host.url}${EVENT_GRID_WEBHOOK_PATH}?functionName=classifyBlob`, key: 'k', random: () => 0.5 });
      await put('via-host.jpg', 'x');
      await waitFor('the redelivery', () => s.stats.delivered === 1);
      expect(calls).toHaveLength(2);
      expect(s.stats.failedAttempts).toBe(1);
      expect(logLines.some((l) => /via-host\.jpg attempt 1 failed \(HTTP 500\)/.test(l))).toBe(true);
    } finally {
      await standIn?.stop();
      await host.close();
    }
  });
});
