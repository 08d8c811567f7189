/** JSON, JSON Lines and CSV: one row per image with the winning answer and, beside it, the model's own and the review. */
import { readFileSync, writeFileSync } from 'node:fs';

import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as stringifyCsv } from 'csv-stringify/sync';

import type { ClassificationResult, DetectedObject } from '../model/classification';
import type { ExportFormat } from './exportFormat';
import type { ExportItem } from './exportItem';
import { attributesOf, labelsOf, objectsOf } from './exportItem';

/** One image in the JSON and JSONL exports. */
export interface ExportRow {
  name: string;
  source: string;
  sha256: string | null;
  status: string;
  /** True when `result` is a person's correction. */
  reviewed: boolean;
  /** The answer to use: the review when there is one, else the model's. */
  result: ClassificationResult;
  labels: string[];
  attributes: Record<string, string>;
  objects: DetectedObject[];
  /** The model's own answer and confidence, kept for comparison. */
  modelResult: ClassificationResult | null;
  confidence: number | null;
  width: number | null;
  height: number | null;
  profile: { name: string; version: string };
  model: string | null;
}

export function toRow(item: ExportItem): ExportRow {
  const r = item.record;
  return {
    name: item.name,
    source: r.source.location,
    sha256: r.sha256,
    status: r.status,
    reviewed: item.reviewed,
    result: item.result,
    labels: labelsOf(item.result),
    attributes: attributesOf(item.result),
    objects: objectsOf(item.result),
    modelResult: r.result,
    confidence: item.reviewed ? 1 : r.confidence,
    width: item.width,
    height: item.height,
    profile: r.profile,
    model: r.model === null ? null : r.model.reportedModel ?? r.model.deployment,
  };
}

export const jsonFormat: ExportFormat = {
  name: 'json',
  description: 'one JSON array, an object per image (winning answer, model answer, labels, attributes, boxes)',
  layout: 'file',
  kinds: 'all',
  write(items, out) {
    writeFileSync(out, `${JSON.stringify(items.map(toRow), null, 2)}\n`);
    return Promise.resolve({ files: [out], images: items.length, skipped: [], notes: [] });
  },
};

export const jsonlFormat: ExportFormat = {
  name: 'jsonl',
  description: 'JSON Lines, the same object per image as json, one per line',
  layout: 'file',
  kinds: 'all',
  write(items, out) {
    writeFileSync(out, items.map((i) => `${JSON.stringify(toRow(i))}\n`).join(''));
    return Promise.resolve({ files: [out], images: items.length, skipped: [], notes: [] });
  },
};

export function readJsonExport(out: string): ExportRow[] {
  return JSON.parse(readFileSync(out, 'utf8')) as ExportRow[];
}

export function readJsonlExport(out: string): ExportRow[] {
  return readFileSync(out, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as ExportRow);
}

/** Labels are joined with this in the CSV `labels` column (readable in a spreadsheet; no built-in label contains it). */
export const CSV_LABEL_SEPARATOR = '; ';

const CSV_FIXED = ['name', 'source', 'sha256', 'status', 'reviewed', 'labels', 'confidence', 'width', 'height', 'profile', 'model'] as const;

/** A CSV row read back: the fixed columns, one `attr:<name>` column per attribute, `objects` as JSON. */
export interface CsvRow {
  name: string;
  labels: string[];
  reviewed: boolean;
  confidence: number | null;
  attributes: Record<string, string>;
  objects: DetectedObject[];
}

export const csvFormat: ExportFormat = {
  name: 'csv',
  description: 'CSV, a row per image: labels joined by "; ", a column per attribute (attr:weather ...), boxes as JSON',
  layout: 'file',
  kinds: 'all',
  write(items, out) {
    const rows = items.map(toRow);
    const attrNames = [...new Set(rows.flatMap((r) => Object.keys(r.attributes)))];
    const header = [...CSV_FIXED, ...attrNames.map((a) => `attr:${a}`), 'objects'];
    const body = rows.map((r) => [
      r.name, r.source, r.sha256 ?? '', r.status, r.reviewed ? 'true' : 'false', r.labels.join(CSV_LABEL_SEPARATOR),
      r.confidence === null ? '' : String(r.confidence), r.width ?? '', r.height ?? '', `${r.profile.name}@${r.profile.version}`, r.model ?? '',
      ...attrNames.map((a) => r.attributes[a] ?? ''),
      r.objects.length === 0 ? '' : JSON.stringify(r.objects),
    ]);
    writeFileSync(out, stringifyCsv([header, ...body]));
    return Promise.resolve({ files: [out], images: items.length, skipped: [], notes: [] });
  },
};

export function readCsvExport(out: string): CsvRow[] {
  const records = parseCsv<Record<string, string>>(readFileSync(out, 'utf8'), { columns: true, skip_empty_lines: true });
  return records.map((r) => ({
    name: r['name'] ?? '',
    labels: (r['labels'] ?? '') === '' ? [] : (r['labels'] ?? '').split(CSV_LABEL_SEPARATOR),
    reviewed: r['reviewed'] === 'true',
    confidence: (r['confidence'] ?? '') === '' ? null : Number(r['confidence']),
    attributes: Object.fromEntries(Object.entries(r).filter(([k, v]) => k.startsWith('attr:') && v !== '').map(([k, v]) => [k.slice(5), v])),
    objects: (r['objects'] ?? '') === '' ? [] : (JSON.parse(r['objects'] ?? '[]') as DetectedObject[]),
  }));
}
