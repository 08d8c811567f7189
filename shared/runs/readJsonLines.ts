/** Reads a run's JSON Lines file, keeping every good line and reporting the bad ones instead of failing the file. */
import { existsSync, readFileSync } from 'node:fs';

import type { PredictionRecord } from './predictionRecord';

export interface CorruptLine {
  file: string;
  /** 1-based line number. */
  line: number;
  reason: string;
}

export interface JsonLines {
  records: PredictionRecord[];
  corrupt: CorruptLine[];
}

/**
 * A missing file is an empty run. A line that is not JSON, or not a prediction record, is reported and skipped;
 * a torn last line (the process was killed mid-write) is the usual case and loses only that image, which a resume
 * then labels again.
 */
export function readJsonLines(file: string): JsonLines {
  if (!existsSync(file)) return { records: [], corrupt: [] };
  const records: PredictionRecord[] = [];
  const corrupt: CorruptLine[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((text, i) => {
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      corrupt.push({ file, line: i + 1, reason: `not JSON (${e instanceof Error ? e.message : String(e)})` });
      return;
    }
    const problem = recordProblem(value);
    if (problem !== null) corrupt.push({ file, line: i + 1, reason: problem });
    else records.push(value as PredictionRecord);
  });
  return { records, corrupt };
}

function recordProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const r = v as Record<string, unknown>;
  if (typeof r['name'] !== 'string' || r['name'] === '') return 'no "name"';
  if (r['sha256'] !== null && (typeof r['sha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(r['sha256']))) return '"sha256" is not a hex SHA-256';
  if (!['classified', 'needs_review', 'rejected', 'failed'].includes(r['status'] as string)) return `"status" ${JSON.stringify(r['status'])} is not a prediction status`;
  const profile = r['profile'] as Record<string, unknown> | null | undefined;
  if (typeof profile !== 'object' || profile === null || typeof profile['name'] !== 'string' || typeof profile['version'] !== 'string') return 'no "profile" {name, version}';
  const usage = r['usage'] as Record<string, unknown> | null | undefined;
  if (typeof usage !== 'object' || usage === null || typeof usage['promptTokens'] !== 'number') return 'no "usage"';
  return null;
}
