/**
 * `blobsight export` and `blobsight import label-studio` through their commander commands: every format is parsed
 * back and compared with what was exported, a reviewed label wins over the model's in every format, --out is never
 * overwritten without --force, and a corrupt predictions line is reported while the rest is exported.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Command } from 'commander';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CommandIo } from '../../shared/cli/commands/commandIo';
import { createExportCommand } from '../../shared/cli/commands/export';
import { createImportCommand } from '../../shared/cli/commands/import';
import { readBatchExport } from '../../shared/export/batchFormat';
import { readBdd100kExport } from '../../shared/export/bdd100kFormat';
import { readCocoExport } from '../../shared/export/cocoFormat';
import { inValidation, readFineTuneExport } from '../../shared/export/fineTuneFormat';
import type { LabelStudioRectangle } from '../../shared/export/labelStudioFormat';
import { readLabelStudioExport } from '../../shared/export/labelStudioFormat';
import { readCsvExport, readJsonExport, readJsonlExport } from '../../shared/export/tabularFormats';
import { readVocExport } from '../../shared/export/vocFormat';
import { readYoloExport } from '../../shared/export/yoloFormat';
import type { ClassificationResult, DetectedObject } from '../../shared/model/classification';
import type { PredictionRecord } from '../../shared/runs/predictionRecord';
import type { ImageDocument } from '../../shared/store/imageDocument';

let dir: string;
const W = 1280;
const H = 720;

function record(name: string, file: string, profile: string, result: ClassificationResult, review: ClassificationResult | null = null): PredictionRecord {
  return {
    name,
    source: { kind: 'file', location: file },
    sha256: 'a'.repeat(64),
    size: 1000,
    profile: { name: profile, version: '1' },
    status: 'classified',
    result,
    review: review === null ? null : { result: review, labels: [], reviewer: 'ana', note: null, reviewedAt: '2026-12-01T10:00:00.000Z' },
    confidence: 0.9,
    confidenceSource: 'logprobs',
    image: { width: W, height: H, format: 'jpeg' },
    model: { provider: 'azure-openai', deployment: 'gpt-4o', apiVersion: '2024-10-21', reportedModel: 'gpt-4o-2024-11-20' },
    usage: { promptTokens: 100, completionTokens: 20, costUsd: 0.001, modelCalls: 1 },
    timings: { readMs: 1, preprocessMs: 1, modelMs: 1, totalMs: 3 },
    reused: null,
    error: null,
    at: '2026-12-01T09:00:00.000Z',
  };
}

const obj = (label: string, x1: number, y1: number, x2: number, y2: number, score = 0.8): DetectedObject => ({ label, detectorClass: label, score, box: { x1, y1, x2, y2 } });
const attrs = (weather: string, timeofday = 'daytime', scene = 'city street') => ({
  weather: { label: weather, confidence: 0.9 },
  timeofday: { label: timeofday, confidence: 0.9 },
  scene: { label: scene, confidence: 0.9 },
});

/** b.jpg's model answer (a car, clear) is corrected by a person to a bus in the rain: the review must win everywhere. */
const modelB: ClassificationResult = { kind: 'objects', objects: [obj('car', 100, 200, 300, 400)], attributes: attrs('clear') };
const reviewB: ClassificationResult = { kind: 'objects', objects: [obj('bus', 500.5, 100.2, 900.7, 600.1, 1)], attributes: attrs('rainy') };
const resultA: ClassificationResult = { kind: 'objects', objects: [obj('pedestrian', 10.3, 20.6, 60.1, 200.9, 0.71), obj('traffic light', 640, 0, 660, 40, 0.55)], attributes: attrs('overcast', 'night', 'highway') };
/** What each image should end as in every export. */
const expected: Record<string, ClassificationResult> = { 'a.jpg': resultA, 'sub/b & c.jpg': reviewB, 'd.jpg': { kind: 'objects', objects: [], attributes: attrs('snowy') } };

let drivingRun: string;
let flowersRun: string;

function io(): CommandIo & { out: string[]; err: string[]; code: number } {
  const o = { out: [] as string[], err: [] as string[], code: 0 };
  return { ...o, stdout: (t) => void o.out.push(t), stderr: (t) => void o.err.push(t), setExitCode: (c) => void (o.code = c), env: {}, get code() { return o.code; }, get out() { return o.out; }, get err() { return o.err; } };
}

async function exportRun(args: string[]): Promise<ReturnType<typeof io>> {
  const x = io();
  const root = new Command('blobsight').exitOverride().addCommand(createExportCommand(x));
  await root.parseAsync(['export', ...args], { from: 'user' });
  return x;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'blobsight-export-'));
  const jpeg = await sharp({ create: { width: W, height: H, channels: 3, background: { r: 80, g: 120, b: 160 } } }).jpeg().toBuffer();
  for (const f of ['a.jpg', 'b.jpg', 'd.jpg']) writeFileSync(join(dir, f), jpeg);
  drivingRun = join(dir, 'runs', '20261201T090000Z-driving');
  mkdirSync(drivingRun, { recursive: true });
  const failed: PredictionRecord = { ...record('e.jpg', join(dir, 'e.jpg'), 'driving-objects', modelB), status: 'rejected', result: null, error: { code: 'invalid_image', message: 'not an image' } };
  writeFileSync(
    join(drivingRun, 'predictions.jsonl'),
    [
      JSON.stringify(record('a.jpg', join(dir, 'a.jpg'), 'driving-objects', resultA)),
      JSON.stringify(record('sub/b & c.jpg', join(dir, 'b.jpg'), 'driving-objects', modelB, reviewB)),
      '{"name": "torn line', // a run killed mid-write
      JSON.stringify(record('d.jpg', join(dir, 'd.jpg'), 'driving-objects', expected['d.jpg'] as ClassificationResult)),
      JSON.stringify(failed),
    ].join('\n'),
  );
  flowersRun = join(dir, 'runs', '20261201T090000Z-flowers');
  mkdirSync(flowersRun, { recursive: true });
  const flowers = Array.from({ length: 12 }, (_, i) =>
    record(`f${String(i).padStart(2, '0')}.jpg`, join(dir, 'a.jpg'), 'flowers', { kind: 'single-label', label: 'rose', confidence: 0.9 }, i === 3 ? { kind: 'single-label', label: 'daisy', confidence: 1 } : null),
  );
  writeFileSync(join(flowersRun, 'predictions.jsonl'), flowers.map((r) => JSON.stringify(r)).join('\n'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const boxes = (r: ClassificationResult | undefined) => (r?.kind === 'objects' ? r.objects.map((o) => ({ label: o.label, ...o.box })) : []);

describe('export formats round-trip (driving-objects run)', () => {
  it('json and jsonl: every image with its winning answer; the torn line is reported, the rejected image left out', async () => {
    for (const format of ['json', 'jsonl'] as const) {
      const out = join(dir, `out.${format}`);
      const x = await exportRun([drivingRun, '--format', format, '--out', out]);
      expect(x.code).toBe(0);
      expect(x.err.join('')).toMatch(/predictions\.jsonl line 3: not JSON/);
      const rows = format === 'json' ? readJsonExport(out) : readJsonlExport(out);
      expect(Object.fromEntries(rows.map((r) => [r.name, r.result]))).toEqual(expected);
      const b = rows.find((r) => r.name === 'sub/b & c.jpg');
      expect(b).toMatchObject({ reviewed: true, labels: ['bus', 'city street', 'daytime', 'rainy'], modelResult: modelB });
    }
  });

  it('csv: labels, attribute columns and boxes read back', async () => {
    const out = join(dir, 'out.csv');
    expect((await exportRun([drivingRun, '--format', 'csv', '--out', out])).code).toBe(0);
    const rows = readCsvExport(out);
    expect(rows.map((r) => r.name)).toEqual(Object.keys(expected).sort());
    for (const r of rows) {
      const e = expected[r.name] as Extract<ClassificationResult, { kind: 'objects' }>;
      expect(r.objects).toEqual(e.objects);
      expect(r.attributes).toEqual(Object.fromEntries(Object.entries(e.attributes ?? {}).map(([k, d]) => [k, d.label])));
    }
    expect(rows.find((r) => r.name === 'sub/b & c.jpg')).toMatchObject({ reviewed: true, labels: ['bus', 'city street', 'daytime', 'rainy'], confidence: 1 });
  });

  it('bdd100k: frames with name, attributes and labels {id, category, box2d, score}', async () => {
    const out = join(dir, 'bdd.json');
    expect((await exportRun([drivingRun, '--format', 'bdd100k', '--out', out])).code).toBe(0);
    const frames = readBdd100kExport(out);
    expect(frames.map((f) => f.name)).toEqual(Object.keys(expected).sort());
    for (const f of frames) {
      const e = expected[f.name] as Extract<ClassificationResult, { kind: 'objects' }>;
      expect(f.labels.map((l) => ({ label: l.category, ...l.box2d }))).toEqual(boxes(e));
      expect(f.labels.map((l) => l.id)).toEqual(e.objects.map((_, i) => String(i)));
      expect(f.attributes).toEqual(Object.fromEntries(Object.entries(e.attributes ?? {}).map(([k, d]) => [k, d.label])));
    }
    expect(frames.find((f) => f.name === 'sub/b & c.jpg')?.labels[0]).toMatchObject({ category: 'bus', score: 1 });
  });

  it('coco: ids from 1, area and iscrowd on every annotation, bbox [x, y, w, h]', async () => {
    const out = join(dir, 'coco.json');
    expect((await exportRun([drivingRun, '--format', 'coco', '--out', out])).code).toBe(0);
    const coco = readCocoExport(out);
    expect(coco.categories.map((c) => c.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(coco.categories.map((c) => c.name)).toEqual(['pedestrian', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle', 'traffic light', 'traffic sign']);
    expect(coco.images.map((i) => i.id)).toEqual([1, 2, 3]);
    expect(coco.annotations.map((a) => a.id)).toEqual([1, 2, 3]);
    for (const a of coco.annotations) {
      expect(a.iscrowd).toBe(0);
      expect(a.area).toBeCloseTo(a.bbox[2] * a.bbox[3], 1);
      expect(a.category_id).toBeGreaterThanOrEqual(1);
    }
    const name = new Map(coco.categories.map((c) => [c.id, c.name]));
    for (const img of coco.images) {
      const back = coco.annotations.filter((a) => a.image_id === img.id).map((a) => ({ label: name.get(a.category_id), x1: a.bbox[0], y1: a.bbox[1], x2: a.bbox[0] + a.bbox[2], y2: a.bbox[1] + a.bbox[3] }));
      const want = boxes(expected[img.file_name]);
      expect(back.length).toBe(want.length);
      back.forEach((b, i) => {
        const w = want[i] as (typeof want)[number];
        expect(b.label).toBe(w.label);
        for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(b[k]).toBeCloseTo(w[k], 1);
      });
      expect([img.width, img.height]).toEqual([W, H]);
    }
  });

  it('voc: one XML per image (folders kept, & escaped), 1-based integer boxes', async () => {
    const out = join(dir, 'voc');
    expect((await exportRun([drivingRun, '--format', 'voc', '--out', out])).code).toBe(0);
    expect(existsSync(join(out, 'sub', 'b & c.xml'))).toBe(true);
    const anns = readVocExport(out);
    expect(anns.map((a) => a.filename)).toEqual(Object.keys(expected).sort());
    for (const a of anns) {
      expect(a.size).toEqual({ width: W, height: H, depth: 3 });
      const want = boxes(expected[a.filename]);
      expect(a.objects.map((o) => ({ label: o.name, x1: o.bndbox.xmin - 1, y1: o.bndbox.ymin - 1, x2: o.bndbox.xmax, y2: o.bndbox.ymax }))).toEqual(
        want.map((w) => ({ label: w.label, x1: Math.round(w.x1), y1: Math.round(w.y1), x2: Math.round(w.x2), y2: Math.round(w.y2) })),
      );
    }
  });

  it('yolo: normalised class cx cy w h per image, data.yaml names in class order, images copied', async () => {
    const out = join(dir, 'yolo');
    expect((await exportRun([drivingRun, '--format', 'yolo', '--out', out])).code).toBe(0);
    const y = readYoloExport(out);
    expect(y.names[4]).toBe('bus');
    expect([...y.labels.keys()].sort()).toEqual(['a', 'd', 'sub/b & c']);
    expect(y.labels.get('d')).toEqual([]);
    expect(existsSync(join(out, 'images', 'sub', 'b & c.jpg'))).toBe(true);
    for (const [key, list] of y.labels) {
      const want = boxes(expected[`${key}.jpg`]);
      const back = list.map((b) => ({ label: y.names[b.classId], x1: (b.cx - b.w / 2) * W, y1: (b.cy - b.h / 2) * H, x2: (b.cx + b.w / 2) * W, y2: (b.cy + b.h / 2) * H }));
      expect(back.length).toBe(want.length);
      back.forEach((b, i) => {
        const w = want[i] as (typeof want)[number];
        expect(b.label).toBe(w.label);
        for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(Math.abs(b[k] - w[k])).toBeLessThan(0.01);
      });
    }
  });

  it('label-studio: rectanglelabels in percent and attribute choices, the review as the pre-annotation', async () => {
    const out = join(dir, 'ls.json');
    const x = await exportRun([drivingRun, '--format', 'label-studio', '--out', out, '--image-url-prefix', '/data/local-files/?d=']);
    expect(x.code).toBe(0);
    expect(x.out.join('')).toMatch(/<RectangleLabels name="label" toName="image">/);
    const tasks = readLabelStudioExport(out);
    expect(tasks.map((t) => t.data.name)).toEqual(Object.keys(expected).sort());
    for (const t of tasks) {
      const result = t.predictions[0]?.result ?? [];
      const rects = result.filter((r): r is LabelStudioRectangle => r.type === 'rectanglelabels');
      const back = rects.map((r) => ({ label: r.value.rectanglelabels[0], x1: (r.value.x / 100) * W, y1: (r.value.y / 100) * H, x2: ((r.value.x + r.value.width) / 100) * W, y2: ((r.value.y + r.value.height) / 100) * H }));
      const want = boxes(expected[t.data.name]);
      back.forEach((b, i) => {
        const w = want[i] as (typeof want)[number];
        expect(b.label).toBe(w.label);
        for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(b[k]).toBeCloseTo(w[k], 6);
      });
      const weather = result.find((r) => r.type === 'choices' && r.from_name === 'weather');
      expect(weather?.type === 'choices' ? weather.value.choices : null).toEqual([(expected[t.data.name] as Extract<ClassificationResult, { kind: 'objects' }>).attributes?.['weather']?.label]);
    }
    expect(tasks.find((t) => t.data.name === 'sub/b & c.jpg')?.predictions[0]?.model_version).toBe('review by ana');
    expect(tasks[0]?.data.image).toBe('/data/local-files/?d=a.jpg');
  });

  it('fine-tune: chat examples with the image as a data URL and the review as the answer, on the 0-1000 grid', async () => {
    const out = join(dir, 'ft');
    const x = await exportRun([drivingRun, '--format', 'fine-tune', '--out', out, '--validation', '0.34', '--seed', 's1']);
    expect(x.code).toBe(0);
    const { train, validation } = readFineTuneExport(out);
    expect(train.length + validation.length).toBe(3);
    for (const [name, ex] of [...train, ...validation].map((e) => [JSON.stringify(e), e] as const)) {
      expect(ex.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
      expect(name).toMatch(/"url":"data:image\/jpeg;base64,/);
    }
    const answers = [...train, ...validation].map((e) => JSON.parse(e.messages[2]?.content as string) as { weather: string; objects: { category: string; box: Record<string, number> }[] });
    const rainy = answers.find((a) => a.weather === 'rainy');
    expect(rainy?.objects).toEqual([{ category: 'bus', box: { x1: 391, y1: 139, x2: 704, y2: 833 }, score: 1 }]);
    expect(answers.some((a) => a.objects.some((o) => o.category === 'car'))).toBe(false);
    // The split is the seed's: the same call gives the same sides.
    const names = Object.keys(expected);
    expect(validation.length).toBe(names.filter((n) => inValidation('s1', n, 0.34)).length);
  });

  it('batch: one POST /chat/completions line per image, custom_id = name, reviewed images not sent again', async () => {
    const out = join(dir, 'batch.jsonl');
    const x = await exportRun([drivingRun, '--format', 'batch', '--out', out, '--deployment', 'gpt-4o-batch']);
    expect(x.code).toBe(0);
    const lines = readBatchExport(out);
    expect(lines.map((l) => l.custom_id)).toEqual(['a.jpg', 'd.jpg']);
    expect(readFileSync(out)[0]).toBe('{'.charCodeAt(0)); // no byte-order mark
    for (const l of lines) {
      expect(l).toMatchObject({ method: 'POST', url: '/chat/completions', body: { model: 'gpt-4o-batch', temperature: 0, response_format: { type: 'json_schema', json_schema: { strict: true } } } });
    }
    expect(x.out.join('')).toMatch(/left out sub\/b & c\.jpg: reviewed by a person/);
  });
});

describe('export of a single-label run', () => {
  it('the reviewed label wins in json, csv, jsonl, label-studio, fine-tune; box formats are refused with exit 2', async () => {
    const json = join(dir, 'flowers.json');
    expect((await exportRun([flowersRun, '--format', 'json', '--out', json])).code).toBe(0);
    expect(readJsonExport(json).find((r) => r.name === 'f03.jpg')?.result).toEqual({ kind: 'single-label', label: 'daisy', confidence: 1 });
    const csv = join(dir, 'flowers.csv');
    await exportRun([flowersRun, '--format', 'csv', '--out', csv]);
    expect(readCsvExport(csv).find((r) => r.name === 'f03.jpg')?.labels).toEqual(['daisy']);
    const ls = join(dir, 'flowers-ls.json');
    await exportRun([flowersRun, '--format', 'label-studio', '--out', ls]);
    expect(readLabelStudioExport(ls).find((t) => t.data.name === 'f03.jpg')?.predictions[0]?.result).toEqual([{ id: 'label-0', type: 'choices', from_name: 'label', to_name: 'image', value: { choices: ['daisy'] } }]);
    const ft = join(dir, 'flowers-ft');
    const x = await exportRun([flowersRun, '--format', 'fine-tune', '--out', ft]);
    expect(x.code).toBe(0);
    const all = [...readFineTuneExport(ft).train, ...readFineTuneExport(ft).validation].map((e) => e.messages[2]?.content);
    expect(all.filter((c) => c === '{"label":"daisy","confidence":1}')).toHaveLength(1);
    expect(all.filter((c) => c === '{"label":"rose","confidence":0.9}')).toHaveLength(11);
    const coco = await exportRun([flowersRun, '--format', 'coco', '--out', join(dir, 'flowers-coco.json')]);
    expect(coco.code).toBe(2);
    expect(coco.err.join('')).toMatch(/coco holds objects answers; profile flowers is single-label/);
  });
});

describe('--help', () => {
  it('export and import label-studio explain their options, formats and exit codes', async () => {
    let text = '';
    const exp = createExportCommand(io()).exitOverride().configureOutput({ writeOut: (t) => void (text += t) });
    await expect(new Command('blobsight').addCommand(exp).parseAsync(['export', '--help'], { from: 'user' })).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
    for (const f of ['json', 'csv', 'jsonl', 'bdd100k', 'coco', 'voc', 'yolo', 'label-studio', 'fine-tune', 'batch']) expect(text).toContain(`  ${f} `);
    expect(text).toMatch(/--force/);
    expect(text).toMatch(/Exit codes: 0 written, 1 written but some images left out, 2 usage/);
    text = '';
    const imp = createImportCommand(io());
    const ls = imp.commands.find((c) => c.name() === 'label-studio');
    ls?.exitOverride().configureOutput({ writeOut: (t) => void (text += t) });
    await expect(new Command('blobsight').addCommand(imp).parseAsync(['import', 'label-studio', '--help'], { from: 'user' })).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
    expect(text).toMatch(/--run <run>/);
    expect(text).toMatch(/--to-service/);
  });
  it('an unknown --format is a usage error', async () => {
    let err = '';
    const exp = createExportCommand(io()).exitOverride().configureOutput({ writeErr: (t) => void (err += t) });
    await expect(new Command('blobsight').addCommand(exp).parseAsync(['export', drivingRun, '--format', 'tfrecord', '--out', join(dir, 'x')], { from: 'user' })).rejects.toMatchObject({ code: 'commander.invalidArgument' });
    expect(err).toMatch(/Allowed choices are json, csv, jsonl, bdd100k, coco, voc, yolo, label-studio, fine-tune, batch/);
  });
});

describe('bad input', () => {
  it('an existing --out is refused with exit 2 and left untouched; --force replaces it', async () => {
    const out = join(dir, 'exists.json');
    writeFileSync(out, 'keep me');
    const x = await exportRun([drivingRun, '--format', 'json', '--out', out]);
    expect(x.code).toBe(2);
    expect(x.err.join('')).toMatch(/already exists; choose another --out, or add --force/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    expect((await exportRun([drivingRun, '--format', 'json', '--out', out, '--force'])).code).toBe(0);
    expect(readJsonExport(out)).toHaveLength(3);
  });
  it('--force never deletes a folder blobsight did not write', async () => {
    const out = join(dir, 'someone');
    mkdirSync(out);
    writeFileSync(join(out, 'thesis.txt'), 'precious');
    const x = await exportRun([drivingRun, '--format', 'voc', '--out', out, '--force']);
    expect(x.code).toBe(2);
    expect(readFileSync(join(out, 'thesis.txt'), 'utf8')).toBe('precious');
  });
  it('a folder that is not a run, and a missing source, exit 2 with a message', async () => {
    const x = await exportRun([dir, '--format', 'json', '--out', join(dir, 'x.json')]);
    expect(x.code).toBe(2);
    expect(x.err.join('')).toMatch(/is not a run: no predictions\.jsonl/);
    const y = await exportRun(['--format', 'json', '--out', join(dir, 'y.json')]);
    expect(y.code).toBe(2);
    expect(y.err.join('')).toMatch(/Give a run folder or --from-service/);
  });
});

describe('import label-studio', () => {
  /** What a person does in Label Studio: submits an annotation, here moving a box and changing a label and an attribute. */
  function annotate(tasksFile: string, edit: (name: string, result: unknown[]) => unknown[]): string {
    const tasks = readLabelStudioExport(tasksFile) as unknown as { data: { name: string }; predictions: { result: unknown[] }[]; annotations?: unknown[] }[];
    for (const t of tasks) {
      t.annotations = [{ id: 1, completed_by: { id: 7, email: 'reviewer@example.com' }, was_cancelled: false, updated_at: '2026-12-01T12:00:00Z', result: edit(t.data.name, structuredClone(t.predictions[0]?.result ?? [])) }];
    }
    const file = join(dir, `annotated-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(tasks));
    return file;
  }

  async function runImport(args: string[], x = io()): Promise<ReturnType<typeof io>> {
    const root = new Command('blobsight').exitOverride().addCommand(createImportCommand(x));
    await root.parseAsync(['import', 'label-studio', ...args], { from: 'user' });
    return x;
  }

  it('round trip into a run: corrected boxes and labels come back as reviews and win in the next export', async () => {
    const run = join(dir, 'runs', 'ls-roundtrip');
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'predictions.jsonl'), readFileSync(join(drivingRun, 'predictions.jsonl')));
    const tasks = join(dir, 'ls-rt.json');
    await exportRun([run, '--format', 'label-studio', '--out', tasks]);
    const annotated = annotate(tasks, (name, result) => {
      if (name !== 'a.jpg') return result;
      return result.map((r) => {
        const x = r as { type: string; from_name: string; value: Record<string, unknown> };
        if (x.type === 'rectanglelabels' && (x.value['rectanglelabels'] as string[])[0] === 'pedestrian') return { ...x, value: { ...x.value, x: 50, y: 50, width: 25, height: 25, rectanglelabels: ['rider'] } };
        if (x.type === 'choices' && x.from_name === 'weather') return { ...x, value: { choices: ['foggy'] } };
        return x;
      });
    });
    const x = await runImport([annotated, '--run', run]);
    expect(x.code).toBe(0);
    expect(x.out.join('')).toMatch(/Stored 3 review\(s\) from 3 task\(s\)/);
    const out = join(dir, 'after-import.json');
    await exportRun([run, '--format', 'json', '--out', out]);
    const rows = readJsonExport(out);
    const a = rows.find((r) => r.name === 'a.jpg');
    expect(a?.reviewed).toBe(true);
    expect(a?.objects).toEqual([
      { label: 'rider', detectorClass: 'rider', score: 1, box: { x1: 640, y1: 360, x2: 960, y2: 540 } },
      { label: 'traffic light', detectorClass: 'traffic light', score: 1, box: { x1: 640, y1: 0, x2: 660, y2: 40 } },
    ]);
    expect(a?.attributes).toEqual({ weather: 'foggy', timeofday: 'night', scene: 'highway' });
    // The model's answer stays beside the review.
    expect(a?.modelResult).toEqual(resultA);
    // Unchanged tasks come back equal to what was exported (boxes to 0.1 px).
    expect(boxes(rows.find((r) => r.name === 'sub/b & c.jpg')?.result)).toEqual(boxes(reviewB));
  });

  it('a label outside the profile, an unknown image and a rotated box are reported (exit 1), the good tasks stored', async () => {
    const run = join(dir, 'runs', 'ls-bad');
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'predictions.jsonl'), readFileSync(join(drivingRun, 'predictions.jsonl')));
    const tasks = join(dir, 'ls-bad.json');
    await exportRun([run, '--format', 'label-studio', '--out', tasks]);
    const annotated = annotate(tasks, (name, result) =>
      name === 'a.jpg' ? result.map((r) => ((r as { type: string }).type === 'rectanglelabels' ? { ...(r as object), value: { ...(r as { value: object }).value, rectanglelabels: ['dog'] } } : r)) : name === 'd.jpg' ? [...result, { type: 'rectanglelabels', from_name: 'label', original_width: W, original_height: H, value: { x: 1, y: 1, width: 5, height: 5, rotation: 30, rectanglelabels: ['car'] } }] : result,
    );
    const withStranger = JSON.parse(readFileSync(annotated, 'utf8')) as { data: { name: string } }[];
    withStranger.push({ ...structuredClone(withStranger[1] as { data: { name: string } }), data: { name: 'nobody.jpg' } });
    writeFileSync(annotated, JSON.stringify(withStranger));
    const x = await runImport([annotated, '--run', run]);
    expect(x.code).toBe(1);
    const text = x.out.join('');
    expect(text).toMatch(/Stored 1 review/);
    expect(text).toMatch(/\(a\.jpg\): "dog" is not a label of profile driving-objects/);
    expect(text).toMatch(/\(d\.jpg\): a rotated box/);
    expect(text).toMatch(/\(nobody\.jpg\): no image named "nobody.jpg"/);
  });

  it('a file that is not JSON, or no target, exits 2', async () => {
    const bad = join(dir, 'not-json.json');
    writeFileSync(bad, 'nope');
    const x = await runImport([bad, '--run', drivingRun]);
    expect(x.code).toBe(2);
    expect(x.err.join('')).toMatch(/is not JSON/);
    expect((await runImport([bad])).code).toBe(2);
  });

  it('--to-service stores the review on the document beside the model answer, with the document etag', async () => {
    const doc: ImageDocument = {
      id: 'f'.repeat(32), type: 'image',
      blob: { container: 'images', name: 'driving-objects/x.jpg', url: 'http://127.0.0.1/images/driving-objects/x.jpg', eTag: '"1"', contentLength: 10, contentType: 'image/jpeg', sequencer: null },
      profile: { name: 'driving-objects', version: '1' }, status: 'classified', result: modelB, labels: ['car'], confidence: 0.9, confidenceSource: 'self-reported',
      model: null, usage: { promptTokens: 1, completionTokens: 1, costUsd: 0, modelCalls: 1 }, timings: { downloadMs: 1, preprocessMs: 1, modelMs: 1, totalMs: 1 },
      image: { width: W, height: H, format: 'jpeg', sha256: 'b'.repeat(64) }, error: null, source: { eventId: null, eventTime: null }, createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z', _etag: 'e1',
    };
    const docs = new Map([[doc.id, doc]]);
    const store = {
      list: () => Promise.resolve({ items: [...docs.values()], continuationToken: null }),
      get: (id: string) => Promise.resolve(docs.get(id)),
      upsert: (d: ImageDocument) => Promise.resolve(d),
      replace: (d: ImageDocument, ifMatch: string) => {
        if (docs.get(d.id)?._etag !== ifMatch) return Promise.resolve('conflict' as const);
        const saved = { ...d, _etag: 'e2' };
        docs.set(d.id, saved);
        return Promise.resolve(saved);
      },
    };
    const env = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', COSMOS_ENDPOINT: 'https://127.0.0.1:1', COSMOS_KEY: 'k' };
    const ex = io();
    Object.assign(ex, { env, openStore: () => Promise.resolve(store) });
    const root = new Command('blobsight').exitOverride().addCommand(createExportCommand(ex));
    const tasks = join(dir, 'svc-ls.json');
    await root.parseAsync(['export', '--from-service', '--format', 'label-studio', '--out', tasks], { from: 'user' });
    expect(ex.code, ex.err.join('')).toBe(0);
    expect(readLabelStudioExport(tasks)[0]?.data.documentId).toBe(doc.id);
    const annotated = annotate(tasks, (_n, result) => result.map((r) => ((r as { from_name: string }).from_name === 'weather' ? { ...(r as object), value: { choices: ['snowy'] } } : r)));
    const im = io();
    Object.assign(im, { env, openStore: () => Promise.resolve(store) });
    await runImport([annotated, '--to-service'], im);
    expect(im.code, im.out.join('') + im.err.join('')).toBe(0);
    const saved = docs.get(doc.id);
    expect(saved?._etag).toBe('e2');
    expect(saved?.result).toEqual(modelB);
    expect(saved?.review).toMatchObject({ reviewer: 'reviewer@example.com', result: { kind: 'objects', attributes: { weather: { label: 'snowy' } }, objects: [{ label: 'car', box: { x1: 100, y1: 200, x2: 300, y2: 400 } }] } });
    expect(saved?.review?.labels).toEqual(['car', 'city street', 'daytime', 'snowy']);
  });
});
