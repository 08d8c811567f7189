/** Reads a run folder's predictions.jsonl (and the reviews imported beside it), keeping good lines and reporting bad ones. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import type { PredictionRecord } from '../runs/predictionRecord';
import type { ImageReview } from '../store/imageDocument';
import { ExportUsageError } from './ExportUsageError';

export const PREDICTIONS_FILE = 'predictions.jsonl';
/** Reviews imported from Label Studio: `{ name, review }` per line, appended; the last line for a name wins. */
export const REVIEWS_FILE = 'reviews.jsonl';

export interface BadLine {
  file: string;
  /** 1-based. */
  line: number;
  reason: string;
}

export interface RunPredictions {
  records: PredictionRecord[];
  bad: BadLine[];
}

/**
 * `run` is a run folder (or its predictions.jsonl). A line that is not JSON or not a prediction record is reported
 * and skipped, never fatal: a run killed mid-write ends in a torn line and everything before it is still good. When
 * the same name appears twice (a resumed run relabelled it), the later line wins. Imported reviews replace
 * `record.review`.
 */
export function readRunPredictions(run: string): RunPredictions {
  const dir = existsSync(run) && statSync(run).isDirectory() ? run : join(run, '..');
  const file = existsSync(run) && statSync(run).isFile() ? run : join(run, PREDICTIONS_FILE);
  if (!existsSync(file)) throw new ExportUsageError(`${run} is not a run: no ${PREDICTIONS_FILE} in it.`);
  const bad: BadLine[] = [];
  const byName = new Map<string, PredictionRecord>();
  for (const { value, line } of jsonLines(file, bad)) {
    const problem = recordProblem(value);
    if (problem !== null) bad.push({ file, line, reason: problem });
    else byName.set((value as PredictionRecord).name, value as PredictionRecord);
  }
  const reviews = join(dir, REVIEWS_FILE);
  if (existsSync(reviews)) {
    for (const { value, line } of jsonLines(reviews, bad)) {
      const v = value as { name?: unknown; review?: { result?: { kind?: unknown } } } | null;
      if (typeof v?.name !== 'string' || typeof v.review?.result?.kind !== 'string') {
        bad.push({ file: reviews, line, reason: 'not a review line {name, review: {result, ...}}' });
        continue;
      }
      const record = byName.get(v.name);
      if (record === undefined) bad.push({ file: reviews, line, reason: `no prediction named ${JSON.stringify(v.name)} in this run` });
      else byName.set(v.name, { ...record, review: v.review as ImageReview });
    }
  }
  return { records: [...byName.values()], bad };
}

function* jsonLines(file: string, bad: BadLine[]): Generator<{ value: unknown; line: number }> {
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const [i, text] of lines.entries()) {
    if (text.trim() === '') continue;
    try {
      yield { value: JSON.parse(text), line: i + 1 };
    } catch (e) {
      bad.push({ file, line: i + 1, reason: `not JSON (${e instanceof Error ? e.message : String(e)})` });
    }
  }
}

function recordProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const r = v as Record<string, unknown>;
  if (typeof r['name'] !== 'string' || r['name'] === '') return 'no "name"';
  const profile = r['profile'] as Record<string, unknown> | null | undefined;
  if (typeof profile !== 'object' || profile === null || typeof profile['name'] !== 'string') return 'no "profile" {name, version}';
  if (!['classified', 'needs_review', 'rejected', 'failed'].includes(r['status'] as string)) return `"status" ${JSON.stringify(r['status'])} is not a prediction status`;
  const result = r['result'] as { kind?: unknown } | null | undefined;
  if (result !== null && result !== undefined && typeof result.kind !== 'string') return '"result" has no kind';
  return null;
}
