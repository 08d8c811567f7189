/** The fake's Files and Batch APIs as Azure publishes them, driven through the openai SDK as blobsight drives them. */
import { AzureOpenAI, toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { FakeOpenAI } from '../support/fakeOpenAI';
import { startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';

let fake: FakeOpenAI;
let client: AzureOpenAI;
let image: string;

beforeAll(async () => {
  fake = await startFakeOpenAI({ batch: { batchDeployments: ['gpt-4o-batch', 'gpt-4o-batch-eu'], batchTiming: { validatingMs: 10, inProgressMs: 40, finalizingMs: 10, cancellingMs: 10 }, fileProcessingMs: 60 } });
  // No deployment: with one the SDK would send /batches to /deployments/<name>/batches.
  client = new AzureOpenAI({ baseURL: `${fake.url}/openai`, apiKey: fake.apiKey, apiVersion: fake.apiVersion, maxRetries: 0 });
  image = `data:image/jpeg;base64,${(await jpeg(32, 24)).toString('base64')}`;
});
afterAll(async () => fake.close());
beforeEach(() => fake.reset());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function line(customId: string, model = 'gpt-4o-batch', extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/chat/completions',
    body: {
      model,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Which?' }, { type: 'image_url', image_url: { url: image, detail: 'low' } }] }],
      response_format: { type: 'json_schema', json_schema: { name: 'pick', strict: true, schema: { type: 'object', properties: { label: { type: 'string', enum: ['cat', 'dog'] } }, required: ['label'], additionalProperties: false } } },
      max_tokens: 20,
    },
    ...extra,
  });
}

async function upload(text: string | Buffer, purpose: 'batch' | 'fine-tune' = 'batch'): Promise<string> {
  const f = await client.files.create({ file: await toFile(typeof text === 'string' ? Buffer.from(text) : text, 'in.jsonl'), purpose });
  for (let s = f.status; s !== 'processed'; s = (await client.files.retrieve(f.id)).status) await sleep(20);
  return f.id;
}

async function until(id: string, statuses: string[]): Promise<Awaited<ReturnType<AzureOpenAI['batches']['retrieve']>>> {
  for (let i = 0; i < 200; i++) {
    const b = await client.batches.retrieve(id);
    if (statuses.includes(b.status)) return b;
    await sleep(10);
  }
  throw new Error(`batch ${id} never reached ${statuses.join('/')}`);
}

const endpoint = '/chat/completions' as unknown as '/v1/chat/completions';

describe('fake Files API', () => {
  it('uploads (201, pending then processed), lists by purpose, serves content and deletes, for batch and fine-tune files', async () => {
    const f = await client.files.create({ file: await toFile(Buffer.from('{"a":1}\n'), 'x.jsonl'), purpose: 'batch' });
    expect(f).toMatchObject({ object: 'file', purpose: 'batch', filename: 'x.jsonl', bytes: 8, status: 'pending' });
    await sleep(80);
    expect((await client.files.retrieve(f.id)).status).toBe('processed');
    const ft = await upload('{"messages":[]}\n', 'fine-tune');
    expect((await client.files.list({ purpose: 'fine-tune' })).data.map((x) => x.id)).toEqual([ft]);
    expect(await (await client.files.content(f.id)).text()).toBe('{"a":1}\n');
    expect(await client.files.delete(f.id)).toMatchObject({ deleted: true, id: f.id });
    await expect(client.files.retrieve(f.id)).rejects.toMatchObject({ status: 404 });
  });

  it('refuses an unknown purpose, a missing api-version and a wrong key as Azure does', async () => {
    await expect(client.files.create({ file: await toFile(Buffer.from('x'), 'x.jsonl'), purpose: 'batch_output' as 'batch' })).rejects.toMatchObject({ status: 400 });
    const noVersion = await fetch(`${fake.url}/openai/files`, { headers: { 'api-key': fake.apiKey } });
    expect(noVersion.status).toBe(404);
    const badKey = await fetch(`${fake.url}/openai/files?api-version=${fake.apiVersion}`, { headers: { 'api-key': 'nope' } });
    expect(badKey.status).toBe(401);
  });
});

describe('fake Batch API', () => {
  it('runs validating → in_progress → finalizing → completed and answers every line, keyed by custom_id', async () => {
    const input = await upload(`${line('a')}\n${line('b')}\n${line('c')}\n`);
    const created = await client.batches.create({ input_file_id: input, endpoint, completion_window: '24h' });
    expect(created).toMatchObject({ object: 'batch', status: 'validating', input_file_id: input, completion_window: '24h' });
    expect(created.expires_at).toBe((created.created_at ?? 0) + 86_400);
    const seen = new Set<string>();
    let b = created;
    while (b.status !== 'completed') {
      seen.add(b.status);
      await sleep(5);
      b = await client.batches.retrieve(created.id);
    }
    // In the published order (a slow poll may miss a short phase, never reorder them).
    const order = ['validating', 'in_progress', 'finalizing'];
    expect([...seen]).toEqual(order.filter((st) => seen.has(st)));
    expect(b.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    const out = (await (await client.files.content(b.output_file_id ?? '')).text()).trim().split('\n').map((l) => JSON.parse(l) as { custom_id: string; response: { status_code: number; body: { choices: { message: { content: string } }[]; usage: { prompt_tokens: number } } } });
    expect(out.map((l) => l.custom_id).sort()).toEqual(['a', 'b', 'c']);
    expect(out.every((l) => l.response.status_code === 200 && ['cat', 'dog'].includes((JSON.parse(l.response.body.choices[0]?.message.content ?? '{}') as { label: string }).label))).toBe(true);
    // Success still comes with an (empty) error file.
    expect(await (await client.files.content(b.error_file_id ?? '')).text()).toBe('');
    expect(fake.batch.linesAnswered).toBe(3);
    expect((await client.batches.list()).data.map((x) => x.id)).toContain(created.id);
  });

  it('fails validation for a duplicate custom_id, a bad JSON line, two models, an online deployment and a BOM', async () => {
    const cases: [string | Buffer, string][] = [
      [`${line('a')}\n${line('a')}\n`, 'duplicate_custom_id'],
      [`${line('a')}\n{not json\n`, 'invalid_json_line'],
      [`${line('a')}\n${line('b', 'gpt-4o-batch-eu')}\n`, 'model_mismatch'],
      [`${line('a', 'no-such-deployment')}\n`, 'model_not_found'],
      [`${line('a', 'gpt-4o')}\n`, 'invalid_request'],
      [`${line('a', 'gpt-4o-batch', { url: '/embeddings' })}\n`, 'url_mismatch'],
      [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${line('a')}\n`)]), 'invalid_request'],
    ];
    for (const [text, code] of cases) {
      const b = await client.batches.create({ input_file_id: await upload(text), endpoint, completion_window: '24h' });
      const done = await until(b.id, ['failed', 'completed']);
      expect(done.status, code).toBe('failed');
      expect((done.errors?.data ?? []).map((e) => e.code), code).toContain(code);
    }
    expect(fake.batch.linesAnswered).toBe(0);
  });

  it('refuses a batch on a file of another purpose, a pending file, or another completion window', async () => {
    const ft = await upload(`${line('a')}\n`, 'fine-tune');
    await expect(client.batches.create({ input_file_id: ft, endpoint, completion_window: '24h' })).rejects.toMatchObject({ status: 400 });
    const pending = await client.files.create({ file: await toFile(Buffer.from(`${line('a')}\n`), 'p.jsonl'), purpose: 'batch' });
    await expect(client.batches.create({ input_file_id: pending.id, endpoint, completion_window: '24h' })).rejects.toMatchObject({ status: 400 });
    const ok = await upload(`${line('a')}\n`);
    await expect(client.batches.create({ input_file_id: ok, endpoint, completion_window: '48h' as '24h' })).rejects.toMatchObject({ status: 400 });
  });

  it('expires with the finished lines in the output and the rest as batch_expired, fails lines on demand, and cancels with partial results', async () => {
    fake.batch.nextOutcome({ kind: 'expire', afterLines: 1 }, { kind: 'fail-lines', customIds: ['b'] }, { kind: 'stall' });
    const text = `${line('a')}\n${line('b')}\n${line('c')}\n`;
    const expired = await until((await client.batches.create({ input_file_id: await upload(text), endpoint, completion_window: '24h' })).id, ['expired']);
    expect(expired.request_counts).toMatchObject({ completed: 1, failed: 2 });
    const errors = (await (await client.files.content(expired.error_file_id ?? '')).text()).trim().split('\n').map((l) => JSON.parse(l) as { error: { code: string } | null });
    expect(errors.map((e) => e.error?.code)).toEqual(['batch_expired', 'batch_expired']);

    const partial = await until((await client.batches.create({ input_file_id: await upload(text), endpoint, completion_window: '24h' })).id, ['completed']);
    expect(partial.request_counts).toMatchObject({ total: 3, completed: 2, failed: 1 });
    const failedLine = JSON.parse((await (await client.files.content(partial.error_file_id ?? '')).text()).trim()) as { custom_id: string; response: { status_code: number } };
    expect(failedLine).toMatchObject({ custom_id: 'b', response: { status_code: 500 } });

    const stalled = await client.batches.create({ input_file_id: await upload(text), endpoint, completion_window: '24h' });
    await until(stalled.id, ['in_progress']);
    expect((await client.batches.cancel(stalled.id)).status).toBe('cancelling');
    const cancelled = await until(stalled.id, ['cancelled']);
    expect((cancelled.request_counts?.completed ?? 0) + (cancelled.request_counts?.failed ?? 0)).toBe(3);
    expect(cancelled.request_counts?.completed).toBeGreaterThan(0);
    await expect(client.batches.cancel(stalled.id)).rejects.toMatchObject({ status: 400 });
  });
});
