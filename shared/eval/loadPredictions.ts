/**
 * Predictions in any of the forms `blobsight evaluate --pred` takes, one PredictionItem per image name:
 *
 * - a run folder (or its predictions.jsonl): PredictionRecords read by the export's readRunPredictions, so imported
 *   reviews (reviews.jsonl) win over the model's answer exactly as in `blobsight export`; the run's failures.jsonl
 *   adds the images it could not answer (they count as wrong, never dropped).
 * - a JSONL file of `{name, label | labels | attributes | boxes}` with optional `confidence` / `score` (a label may
 *   be `{label, confidence}`), or of PredictionRecords.
 * - BDD100K frames with predicted labels (`score` on each label).
 * - COCO results `[{image_id, category_id, bbox, score}]` (or a COCO file `{annotations}` of them), read against a
 *   COCO truth's ids.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

import { UsageError } from '../cli/UsageError';
import { ExportUsageError } from '../export/ExportUsageError';
import { readRunPredictions } from '../export/readRunPredictions';
import type { ClassificationResult } from '../model/classification';
import type { PredictionRecord } from '../runs/predictionRecord';
import { readJsonLines } from '../runs/readJsonLines';
import type { RunConfig } from '../runs/runConfig';
import { CONFIG_FILE, FAILURES_FILE } from '../runs/RunFolder';
import { DetectionInputError } from './detection/DetectionInputError';
import { readCocoResults } from './detection/readCocoResults';
import type { AnswerDecision, PredictionItem, PredictionSet, TruthSet } from './evalInput';
import { bddFrame } from './loadTruth';
import { isObject, readJsonFile, readJsonLinesFile } from './readJsonFile';

export interface PredictionOptions {
  /** Evaluate the model's own answers even where a person reviewed them. */
  ignoreReviews?: boolean;
}

export function loadPredictions(pred: string, truth: TruthSet | null, options: PredictionOptions = {}): PredictionSet {
  if (!existsSync(pred)) throw new UsageError(`--pred ${pred} does not exist.`);
  const isDir = statSync(pred).isDirectory();
  if (isDir || path.basename(pred) === 'predictions.jsonl') return loadRun(isDir ? pred : path.dirname(pred), options);
  if (pred.endsWith('.jsonl')) return loadJsonl(pred, options);
  const data = readJsonFile(pred, '--pred');
  if (Array.isArray(data) && data.length > 0 && isObject(data[0]) && 'image_id' in data[0]) return loadCocoResults(pred, data, truth);
  // Some tools write COCO results as a COCO file ({images, annotations} with scores).
  if (isObject(data) && Array.isArray(data['annotations'])) return loadCocoResults(pred, data, truth);
  if (Array.isArray(data) || (isObject(data) && Array.isArray(data['frames']))) return loadBddPredictions(pred, data);
  throw new UsageError(`--pred ${pred}: not a run folder, a .jsonl of predictions, BDD100K frames or COCO results.`);
}

function loadRun(dir: string, options: PredictionOptions): PredictionSet {
  const warnings: string[] = [];
  let read;
  try {
    read = readRunPredictions(dir);
  } catch (e) {
    if (e instanceof ExportUsageError) throw new UsageError(e.message);
    throw e;
  }
  for (const b of read.bad) warnings.push(`${b.file} line ${b.line} skipped: ${b.reason}`);
  const byName = new Map(read.records.map((r) => [r.name, r]));
  const failures = readJsonLines(path.join(dir, FAILURES_FILE));
  for (const c of failures.corrupt) warnings.push(`${c.file} line ${c.line} skipped: ${c.reason}`);
  // A failure relabelled later (a resumed run) is in predictions.jsonl; only the still-unanswered ones are added.
  for (const f of failures.records) if (!byName.has(f.name)) byName.set(f.name, f);
  let profile: PredictionSet['profile'];
  const configFile = path.join(dir, CONFIG_FILE);
  if (existsSync(configFile)) {
    const c = readJsonFile(configFile, 'run config') as Partial<RunConfig>;
    if (c.profile !== undefined) profile = { name: c.profile.name, version: c.profile.version, kind: c.profile.kind };
  }
  const items = [...byName.values()].map((r) => itemFromRecord(r, options));
  return { format: 'run', items, warnings, ...(profile === undefined ? {} : { profile }) };
}

export function itemFromRecord(r: PredictionRecord, options: PredictionOptions = {}): PredictionItem {
  const reviewed = r.review !== null && r.review !== undefined && options.ignoreReviews !== true;
  const result = reviewed ? (r.review as NonNullable<PredictionRecord['review']>).result : r.result;
  const item: PredictionItem = {
    name: r.name,
    location: r.source.location,
    status: r.status,
    reviewed,
    usage: { promptTokens: r.usage.promptTokens, completionTokens: r.usage.completionTokens, costUsd: r.usage.costUsd, modelCalls: r.usage.modelCalls },
    totalMs: r.timings.totalMs,
    reusedAnswer: r.reused !== null,
  };
  // A person's answer has no model confidence: it is right by definition of a review, and says nothing about calibration.
  if (result !== null && (r.status === 'classified' || r.status === 'needs_review')) Object.assign(item, answerOf(result, reviewed));
  return item;
}

function answerOf(result: ClassificationResult, reviewed: boolean): Partial<PredictionItem> {
  const conf = (c: number | null): number | null => (reviewed ? null : c);
  switch (result.kind) {
    case 'single-label':
      return { label: { label: result.label, confidence: conf(result.confidence) } };
    case 'multi-label':
      return { labels: result.labels.map((d) => ({ label: d.label, confidence: conf(d.confidence) })) };
    case 'attributes':
      return { attributes: Object.fromEntries(Object.entries(result.attributes).map(([k, d]) => [k, { label: d.label, confidence: conf(d.confidence) }])) };
    case 'objects': {
      const out: Partial<PredictionItem> = { boxes: result.objects.map((o) => ({ category: o.label, score: reviewed ? null : o.score, ...o.box })) };
      if (result.attributes !== undefined) out.attributes = Object.fromEntries(Object.entries(result.attributes).map(([k, d]) => [k, { label: d.label, confidence: conf(d.confidence) }]));
      return out;
    }
  }
}

function decision(v: unknown, fallbackConfidence: unknown): AnswerDecision | null {
  if (typeof v === 'string') return { label: v, confidence: typeof fallbackConfidence === 'number' ? fallbackConfidence : null };
  if (isObject(v) && typeof v['label'] === 'string') return { label: v['label'], confidence: typeof v['confidence'] === 'number' ? v['confidence'] : null };
  return null;
}

function loadJsonl(file: string, options: PredictionOptions): PredictionSet {
  const warnings: string[] = [];
  const items = new Map<string, PredictionItem>();
  for (const { value, line } of readJsonLinesFile(file, '--pred', warnings)) {
    if (!isObject(value) || typeof value['name'] !== 'string' || value['name'] === '') {
      warnings.push(`${file} line ${line} skipped: no "name"`);
      continue;
    }
    // A PredictionRecord line (a copied predictions.jsonl) reads as in a run.
    if (typeof value['status'] === 'string' && isObject(value['usage']) && isObject(value['timings'])) {
      items.set(value['name'], itemFromRecord(value as unknown as PredictionRecord, options));
      continue;
    }
    const item: PredictionItem = { name: value['name'], location: null, status: 'answered', reviewed: false };
    if (value['label'] !== undefined) {
      const d = decision(value['label'], value['confidence']);
      if (d !== null) item.label = d;
    }
    if (Array.isArray(value['labels'])) item.labels = value['labels'].map((l) => decision(l, null)).filter((d): d is AnswerDecision => d !== null);
    if (isObject(value['attributes'])) {
      item.attributes = {};
      for (const [k, v] of Object.entries(value['attributes'])) {
        const d = decision(v, null);
        if (d !== null) item.attributes[k] = d;
      }
    }
    if (Array.isArray(value['boxes'])) {
      item.boxes = [];
      for (const b of value['boxes'] as unknown[]) {
        const box: unknown = isObject(b) && isObject(b['box2d']) ? { ...b, ...b['box2d'] } : b;
        if (isObject(box) && typeof box['category'] === 'string' && [box['x1'], box['y1'], box['x2'], box['y2']].every((n) => typeof n === 'number')) {
          item.boxes.push({ category: box['category'], x1: box['x1'] as number, y1: box['y1'] as number, x2: box['x2'] as number, y2: box['y2'] as number, score: typeof box['score'] === 'number' ? box['score'] : null });
        } else warnings.push(`${file} line ${line}: a box without {category, x1, y1, x2, y2} skipped`);
      }
    }
    if (item.label === undefined && item.labels === undefined && item.attributes === undefined && item.boxes === undefined) {
      warnings.push(`${file} line ${line} skipped: none of label, labels, attributes, boxes`);
      continue;
    }
    items.set(item.name, item);
  }
  return { format: 'jsonl', items: [...items.values()], warnings };
}

function loadBddPredictions(file: string, data: unknown): PredictionSet {
  const warnings: string[] = [];
  const frames = Array.isArray(data) ? data : ((data as Record<string, unknown>)['frames'] as unknown[]);
  const items: PredictionItem[] = [];
  frames.forEach((fr, i) => {
    const t = bddFrame(fr, `${file} frame ${i}`, warnings);
    if (t === null) return;
    const item: PredictionItem = { name: t.name, location: null, status: 'answered', reviewed: false, boxes: (t.boxes ?? []).map((b) => ({ category: b.category, x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, score: b.score ?? null })) };
    if (t.attributes !== undefined) item.attributes = Object.fromEntries(Object.entries(t.attributes).map(([k, v]) => [k, { label: v, confidence: null }]));
    items.push(item);
  });
  return { format: 'bdd100k', items, warnings };
}

function loadCocoResults(file: string, data: unknown, truth: TruthSet | null): PredictionSet {
  if (truth?.coco === undefined) throw new UsageError(`--pred ${file} is a COCO results file: its image_id and category_id only mean something against a COCO --truth.`);
  let read;
  try {
    read = readCocoResults(data, truth.coco);
  } catch (e) {
    if (e instanceof DetectionInputError) throw new UsageError(`--pred ${file}: ${e.message}`);
    throw e;
  }
  // Every truth image is predicted (with no boxes where the results have none): COCO results list only detections.
  const items: PredictionItem[] = read.images.map((im) => ({
    name: im.image,
    location: null,
    status: 'answered',
    reviewed: false,
    boxes: im.predictions.map((p) => {
      const [x, y, w, h] = p.bbox;
      return { category: p.category, x1: x, y1: y, x2: x + w, y2: y + h, bbox: [x, y, w, h], score: p.score ?? null };
    }),
  }));
  return { format: 'coco', items, warnings: read.warnings.map((w) => `${file}: ${w}`) };
}
