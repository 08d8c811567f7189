/**
 * `npm start`'s stack end to end on free ports: upload through the API → Azurite → Event Grid stand-in → dev host
 * webhook → pipeline (fake Azure OpenAI) → Cosmos server; then a restart on the same data folder keeps it all.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { LocalStack, LocalStackOptions } from '../../scripts/dev/localStack';
import { startLocalStack } from '../../scripts/dev/localStack';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';

let fake: FakeOpenAI;
let dataDir: string;
let stack: LocalStack | undefined;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'cat' }), confidences: { label: 0.97 } }));
  dataDir = await mkdtemp(path.join(tmpdir(), 'blobsight-localstack-'));
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

function options(log: (line: string) => void = () => undefined): LocalStackOptions {
  return {
    dataDir,
    ports: { blob: 0, cosmos: 0, host: 0 },
    env: { AZURE_OPENAI_ENDPOINT: fake.url, AZURE_OPENAI_DEPLOYMENT: fake.deployment, AZURE_OPENAI_API_KEY: fake.apiKey, MODEL_MAX_RETRIES: '0' },
    eventGrid: { pollMs: 100 },
    log,
  };
}

async function timedStart(label: string, log?: (line: string) => void): Promise<LocalStack> {
  const t0 = performance.now();
  const s = await startLocalStack(options(log));
  console.log(`local stack ${label} started in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return s;
}

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const chatCalls = (): number => fake.requests.filter((r) => r.path.endsWith('/chat/completions')).length;

describe('the local stack', () => {
  let id: string;
  let bytes: Buffer;
  let key: string;

  it('classifies an image uploaded through the API, with the fake model, and keeps the key out of anonymous reach', async () => {
    stack = await timedStart('(first run)');
    key = stack.functionKey;
    expect(stack.model).toEqual({ provider: 'azure-openai', deployment: fake.deployment });
    expect(stack.urls.page).toBe(`${stack.urls.api}/?code=${encodeURIComponent(key)}`);
    for (const u of [stack.urls.api, stack.urls.blob, stack.urls.cosmos]) expect(new URL(u).hostname).toBe('127.0.0.1');

    const health = await fetch(stack.urls.health);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });

    bytes = await jpeg(320, 240);
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'kitten.jpg');
    expect((await fetch(`${stack.urls.api}/api/uploads?profile=pets`, { method: 'POST', body: form })).status).toBe(401);

    const again = new FormData();
    again.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'kitten.jpg');
    const upload = await fetch(`${stack.urls.api}/api/uploads?profile=pets`, { method: 'POST', body: again, headers: { 'x-functions-key': key } });
    expect(upload.status).toBe(201);
    ({ id } = (await upload.json()) as { id: string });

    const s = stack;
    const doc = await poll('the classified document', async () => {
      const r = await fetch(`${s.urls.api}/api/images/${id}`, { headers: { 'x-functions-key': key } });
      if (r.status !== 200) {
        await r.body?.cancel();
        return undefined;
      }
      const d = (await r.json()) as { status: string };
      return d.status === 'classified' ? d : undefined;
    });
    expect(doc).toMatchObject({ status: 'classified', profile: { name: 'pets' }, labels: ['cat'] });
    expect(chatCalls()).toBe(1);
  });

  it('keeps the document, the blob and the key across a restart on the same data folder, without paying again', async () => {
    await stack?.stop();
    await stack?.stop(); // idempotent
    stack = undefined;

    const lines: string[] = [];
    stack = await timedStart('(restart)', (l) => lines.push(l));
    expect(stack.functionKey).toBe(key);
    expect(lines.some((l) => /Cosmos: restored \d+ item/.test(l))).toBe(true);

    const res = await fetch(`${stack.urls.api}/api/images/${id}`, { headers: { 'x-functions-key': key } });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { status: string; labels: string[]; blob: { name: string } };
    expect(doc).toMatchObject({ status: 'classified', labels: ['cat'] });

    // The uploaded bytes are still in Azurite, and the page's preview of them is served.
    expect((await stack.services.images.getBlobClient(doc.blob.name).downloadToBuffer()).equals(bytes)).toBe(true);
    const preview = await fetch(`${stack.urls.api}/api/images/${id}/content?code=${key}`);
    expect(preview.status).toBe(200);
    expect(preview.headers.get('content-type')).toBe('image/jpeg');
    await preview.body?.cancel();

    // The stand-in announces the existing blob again (at least once); the pipeline recognises the finished version.
    await poll('the re-announced blob to be handled', () => Promise.resolve(lines.some((l) => l.startsWith('classifyBlob ')) ? true : undefined));
    expect(lines.find((l) => l.startsWith('classifyBlob '))).toMatch(/: duplicate$/);
    expect(chatCalls()).toBe(1);
  });

  it('refuses to start when a port is taken, naming the port, and starts nothing', async () => {
    await stack?.stop();
    stack = undefined;
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const lines: string[] = [];
    try {
      await expect(startLocalStack({ ...options((l) => lines.push(l)), ports: { blob: 0, cosmos: 0, host: port } })).rejects.toThrow(
        new RegExp(`Port ${port} \\(dev host\\) is already in use`),
      );
      expect(lines.filter((l) => /starting|ready/.test(l))).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
