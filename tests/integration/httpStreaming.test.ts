/**
 * Bodies as Azure delivers them with HTTP streaming on: the registered handlers (functions/*.ts) get a request whose
 * body is a live stream, built the way the library's streaming path builds it (a native Request over the proxied
 * body, duplex 'half'). Oversized bodies are refused while they arrive, and a refused upload leaves nothing in the
 * container, not even uncommitted blocks.
 */
import type * as azureFunctions from '@azure/functions';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { classify } from '../../functions/classify';
import { uploadImage } from '../../functions/uploadImage';
import { silentLogger } from '../../shared/logging';
import { getServices, httpFunction } from '../../shared/runtime';
import { testEnv, uniqueName } from '../support/emulators';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import { startTestApp } from '../support/testApp';

const MAX_BYTES = 300_000;
const CHUNK = 16 * 1024;
const base = 'http://localhost:7071/api';
let fake: FakeOpenAI;
// Records app.setup calls made while the registrations load (they load before this file's body runs, as at host start).
const setupCalls = vi.hoisted(() => [] as unknown[]);
vi.mock('@azure/functions', async (importOriginal) => {
  const real = await importOriginal<typeof azureFunctions>();
  const setup = (options: azureFunctions.SetupOptions): void => {
    setupCalls.push(options);
    real.app.setup(options);
  };
  return { ...real, app: { ...real.app, setup } };
});

beforeAll(async () => {
  fake = await startFakeOpenAI();
  Object.assign(
    process.env,
    testEnv({
      IMAGES_CONTAINER: uniqueName('stream-images'),
      COSMOS_DATABASE: uniqueName('stream'),
      AZURE_OPENAI_ENDPOINT: fake.url,
      AZURE_OPENAI_DEPLOYMENT: fake.deployment,
      AZURE_OPENAI_API_KEY: fake.apiKey,
      MODEL_MAX_RETRIES: '0',
      MAX_IMAGE_BYTES: String(MAX_BYTES),
    }),
  );
  await (await getServices()).images.createIfNotExists();
});
afterAll(async () => {
  await (await getServices()).images.deleteIfExists();
  await fake.close();
});

function ctx(name: string): InvocationContext {
  return new InvocationContext({ functionName: name, invocationId: uniqueName('inv') });
}

/** A body of `total` bytes that starts with `head`, produced on demand; `pulled` counts what the handler read. */
function streamedBody(head: Buffer, total: number, pauseEveryMiB = 0): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (sent >= total) return controller.close();
        // A slow client: the server has time to act on what it got so far (e.g. stage a block) before more arrives.
        if (pauseEveryMiB > 0 && sent > 0 && sent % (1024 * 1024) === 0) await new Promise((r) => setTimeout(r, pauseEveryMiB));
        const n = Math.min(CHUNK, total - sent);
        const chunk = Buffer.alloc(n, 0x41);
        if (sent < head.length) head.copy(chunk, 0, sent, Math.min(head.length, sent + n));
        sent += n;
        controller.enqueue(new Uint8Array(chunk));
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => sent };
}

/** What the library hands the handler with enableHttpStream: an HttpRequest over a native, streaming Request. */
function streamedRequest(path: string, body: ReadableStream<Uint8Array> | Buffer, headers: Record<string, string>): HttpRequest {
  const init: RequestInit & { duplex: 'half' } = { method: 'POST', headers, body: body instanceof Buffer ? new Uint8Array(body) : body, duplex: 'half' };
  // `nativeRequest` is the library's own (internal) init field for streamed requests, as createStreamRequest uses it.
  return new HttpRequest({ nativeRequest: new Request(`${base}${path}`, init), params: {} } as unknown as ConstructorParameters<typeof HttpRequest>[0]);
}

function problem(res: { body?: unknown }): { code: string; detail: string; maxBytes?: number; limit?: string } {
  return JSON.parse(Buffer.from(res.body as Uint8Array).toString('utf8')) as { code: string; detail: string; maxBytes?: number; limit?: string };
}

/** Every blob of the container, committed or not. */
async function blobsIncludingUncommitted(): Promise<string[]> {
  const names: string[] = [];
  for await (const b of (await getServices()).images.listBlobsFlat({ includeUncommitedBlobs: true })) names.push(b.name);
  return names;
}

async function multipartOf(parts: Array<{ bytes: Buffer; filename: string }>): Promise<{ bytes: Buffer; type: string }> {
  const form = new FormData();
  for (const p of parts) form.append('image', new Blob([new Uint8Array(p.bytes)], { type: 'image/jpeg' }), p.filename);
  const encoded = new Response(form);
  return { bytes: Buffer.from(await encoded.arrayBuffer()), type: encoded.headers.get('content-type') ?? '' };
}

describe('HTTP streaming in Azure', () => {
  it('is turned on where the functions register, before any of them is registered', () => {
    expect(setupCalls).toEqual([{ enableHttpStream: true }]);
  });

  it.each([
    ['uploadImage', 'image/jpeg', '/uploads?name=big.jpg'],
    ['classify', 'image/jpeg', '/classify?profile=pets'],
  ] as const)('%s refuses a chunked raw body over the limit while reading it, naming the limit', async (name, type, path) => {
    const total = 50 * MAX_BYTES;
    const body = streamedBody(await jpeg(32, 32), total);
    const handler = name === 'uploadImage' ? uploadImage : classify;
    const res = await handler(streamedRequest(path, body.stream, { 'content-type': type }), ctx(name));
    expect(res.status).toBe(413);
    expect(problem(res)).toMatchObject({ code: 'too_large', maxBytes: MAX_BYTES, limit: 'MAX_IMAGE_BYTES' });
    expect(problem(res).detail).toContain(`${MAX_BYTES} bytes (MAX_IMAGE_BYTES)`);
    // Read up to the limit and a chunk or two past it, never the whole body.
    expect(body.pulled()).toBeLessThan(MAX_BYTES + 4 * CHUNK);
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a multipart upload whose file is over the limit while reading it, and leaves no staged blocks', async () => {
    const head = (await multipartOf([{ bytes: await jpeg(32, 32), filename: 'x.jpg' }])).bytes;
    // A multipart preamble with a valid boundary, then an endless file part.
    const boundary = '----blobsightboundary';
    const preamble = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="x.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
    const body = streamedBody(Buffer.concat([preamble, head]), 50 * MAX_BYTES);
    const res = await uploadImage(streamedRequest('/uploads', body.stream, { 'content-type': `multipart/form-data; boundary=${boundary}` }), ctx('uploadImage'));
    expect(res.status).toBe(413);
    expect(body.pulled()).toBeLessThan(MAX_BYTES + 64 * 1024 + 4 * CHUNK);
    expect(await blobsIncludingUncommitted()).toEqual([]);
  });

  it('stores a streamed upload within the limit in one piece', async () => {
    const image = await jpeg(400, 300);
    const body = streamedBody(image, image.length);
    const res = await uploadImage(streamedRequest('/uploads?name=ok.jpg&profile=pets', body.stream, { 'content-type': 'image/jpeg' }), ctx('uploadImage'));
    expect(res.status).toBe(201);
    const { blobName } = JSON.parse(Buffer.from(res.body as Uint8Array).toString('utf8')) as { blobName: string };
    const stored = await (await getServices()).images.getBlobClient(blobName).downloadToBuffer();
    expect(stored.equals(image)).toBe(true);
    await (await getServices()).images.deleteBlob(blobName);
  });
});

describe('a refused upload of many MiB', () => {
  it('leaves no uncommitted blocks in the container', async () => {
    // Past two 4 MiB blocks: the old streaming upload had staged 8 MiB here before the limit refused it.
    const limit = 10 * 1024 * 1024;
    const testApp = await startTestApp(fake, { MAX_IMAGE_BYTES: String(limit) });
    try {
      const body = streamedBody(await jpeg(32, 32), limit + 1, 250);
      const req = new Request(`${base}/uploads?name=over.jpg`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: body.stream, duplex: 'half' });
      const res = await httpFunction('uploadImage').handler(req, { params: {}, log: silentLogger }, testApp.services);
      expect(res.status).toBe(413);
      const left: string[] = [];
      for await (const b of testApp.services.images.listBlobsFlat({ includeUncommitedBlobs: true })) left.push(b.name);
      expect(left).toEqual([]);
    } finally {
      await testApp.cleanup();
    }
  });
});

describe('one file per request', () => {
  it.each(['uploadImage', 'classify'] as const)('%s refuses a multipart body with two files, storing nothing and calling no model', async (name) => {
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
    const form = await multipartOf([
      { bytes: await jpeg(40, 40), filename: 'a.jpg' },
      { bytes: await jpeg(50, 50), filename: 'b.jpg' },
    ]);
    const handler = name === 'uploadImage' ? uploadImage : classify;
    const res = await handler(streamedRequest(name === 'uploadImage' ? '/uploads' : '/classify?profile=pets', form.bytes, { 'content-type': form.type }), ctx(name));
    expect(res.status).toBe(400);
    expect(problem(res).code).toBe('one_file_per_request');
    expect(await blobsIncludingUncommitted()).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });
});
