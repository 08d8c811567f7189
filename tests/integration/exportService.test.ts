/**
 * Exports and imports against the service's real stores (Azurite + the Cosmos emulator server): documents the
 * pipeline stored are exported with --from-service (images downloaded from the container for fine-tuning), a
 * Label Studio correction is imported with --to-service onto the document, and a batch line's body is exactly the
 * request the classifier sent to the fake.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Command } from 'commander';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CommandIo } from '../../shared/cli/commands/commandIo';
import { createExportCommand } from '../../shared/cli/commands/export';
import { createImportCommand } from '../../shared/cli/commands/import';
import { readBatchExport } from '../../shared/export/batchFormat';
import { readFineTuneExport } from '../../shared/export/fineTuneFormat';
import { readLabelStudioExport } from '../../shared/export/labelStudioFormat';
import { readJsonExport } from '../../shared/export/tabularFormats';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

describe('export --from-service and import --to-service', () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  let dir: string;
  const docIds: Record<string, string> = {};

  const io = (): CommandIo & { out: string[]; err: string[]; code: number } => {
    const o = { out: [] as string[], err: [] as string[], code: -1 };
    return Object.assign(o, {
      stdout: (t: string) => void o.out.push(t),
      stderr: (t: string) => void o.err.push(t),
      setExitCode: (c: number) => void (o.code = c),
      // Settings as a user's .env would give them; the store and container themselves are the test app's.
      env: { AzureWebJobsStorage: 'UseDevelopmentStorage=true', COSMOS_ENDPOINT: 'https://127.0.0.1:1', COSMOS_KEY: 'k', AZURE_OPENAI_ENDPOINT: 'https://blobsight-test.openai.azure.com/', AZURE_OPENAI_DEPLOYMENT: 'gpt-4o-batch' },
      openStore: () => Promise.resolve(app.services.store),
      openImages: () => app.services.images,
    });
  };
  const run = async (cmd: Command, args: string[]): Promise<void> => {
    await new Command('blobsight').exitOverride().addCommand(cmd).parseAsync(args, { from: 'user' });
  };

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    app = await startTestApp(fake);
    dir = mkdtempSync(join(tmpdir(), 'blobsight-export-service-'));
    const jpeg = await sharp({ create: { width: 1280, height: 720, channels: 3, background: { r: 30, g: 60, b: 90 } } }).jpeg().toBuffer();
    for (const [name, weather] of [['driving-objects/one.jpg', 'rainy'], ['driving-objects/two.jpg', 'clear']] as const) {
      fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { weather, objects: [{ category: 'car', box: { x1: 100, y1: 100, x2: 500, y2: 500 }, score: 0.9 }] }) }));
      // Different bytes per image, so the second is not answered from the content cache.
      const out = await app.put(name, Buffer.concat([jpeg, Buffer.from(name)]));
      if (!('document' in out)) throw new Error(`not stored: ${out.outcome}`);
      docIds[name] = out.document.id;
    }
  });
  afterAll(async () => {
    await app.cleanup();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports the stored documents, fine-tuning examples from the downloaded blobs', async () => {
    const x = io();
    const out = join(dir, 'svc.json');
    await run(createExportCommand(x), ['export', '--from-service', '--profile', 'driving-objects', '--format', 'json', '--out', out]);
    expect(x.code, x.err.join('')).toBe(0);
    const rows = readJsonExport(out);
    expect(rows.map((r) => [r.name, r.attributes['weather'], r.objects.map((o) => [o.label, o.box])])).toEqual([
      ['driving-objects/one.jpg', 'rainy', [['car', { x1: 128, y1: 72, x2: 640, y2: 360 }]]],
      ['driving-objects/two.jpg', 'clear', [['car', { x1: 128, y1: 72, x2: 640, y2: 360 }]]],
    ]);
    const y = io();
    const ft = join(dir, 'ft');
    await run(createExportCommand(y), ['export', '--from-service', '--profile', 'driving-objects', '--format', 'fine-tune', '--out', ft, '--validation', '0']);
    expect(y.code, y.out.join('') + y.err.join('')).toBe(0);
    expect(readFineTuneExport(ft).train).toHaveLength(2);
  });

  it('a batch line carries exactly the body the classifier sent to the model', async () => {
    const x = io();
    const out = join(dir, 'batch.jsonl');
    await run(createExportCommand(x), ['export', '--from-service', '--profile', 'driving-objects', '--format', 'batch', '--out', out, '--deployment', fake.deployment]);
    expect(x.code, x.err.join('')).toBe(0);
    const line = readBatchExport(out).find((l) => l.custom_id === 'driving-objects/one.jpg');
    const sent = fake.requests.find((r) => r.status === 200)?.body;
    expect(line?.body).toEqual(sent);
  });

  it('a Label Studio correction lands on the document as its review; the model answer stays', async () => {
    const x = io();
    const tasks = join(dir, 'ls.json');
    await run(createExportCommand(x), ['export', '--from-service', '--profile', 'driving-objects', '--format', 'label-studio', '--out', tasks]);
    const exported = readLabelStudioExport(tasks) as unknown as { data: { name: string }; predictions: { result: { type: string; value: Record<string, unknown> }[] }[]; annotations?: unknown[] }[];
    const one = exported.find((t) => t.data.name === 'driving-objects/one.jpg');
    if (one === undefined) throw new Error('task missing');
    one.annotations = [{ completed_by: { email: 'kim@example.com' }, result: (one.predictions[0]?.result ?? []).map((r) => (r.type === 'rectanglelabels' ? { ...r, value: { ...r.value, rectanglelabels: ['truck'] } } : r)) }];
    const annotated = join(dir, 'annotated.json');
    writeFileSync(annotated, JSON.stringify(exported));
    const y = io();
    await run(createImportCommand(y), ['import', 'label-studio', annotated, '--to-service']);
    expect(y.code, y.out.join('')).toBe(0);
    expect(y.out.join('')).toMatch(/Stored 1 review\(s\) from 2 task\(s\); 1 task\(s\) had no annotation/);
    const doc = await app.services.store.get(docIds['driving-objects/one.jpg'] ?? '');
    expect(doc?.review).toMatchObject({ reviewer: 'kim@example.com', labels: ['city street', 'daytime', 'rainy', 'truck'], result: { objects: [{ label: 'truck', box: { x1: 128, y1: 72, x2: 640, y2: 360 } }] } });
    expect(doc?.result).toMatchObject({ objects: [{ label: 'car' }] });
  });
});
