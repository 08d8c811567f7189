/**
 * The files of a prepared fine-tuning folder: train.jsonl, validation.jsonl, finetune.json (what `prepare` made and
 * what it will cost) and start.json (what `start` has done at Azure: file and job ids), so a crash resumes instead of
 * uploading twice or creating a second job.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const TRAIN_FILE = 'train.jsonl';
export const VALIDATION_FILE = 'validation.jsonl';
export const MANIFEST_FILE = 'finetune.json';
export const START_FILE = 'start.json';

export interface SplitFacts {
  file: string;
  examples: number;
  reviewed: number;
  /** Estimated tokens of the file once (text by o200k_base, images by the image-token rule). */
  tokens: number;
  sha256: string;
}

export interface FineTuneManifest {
  createdAt: string;
  profile: { name: string; version: string; kind: string };
  source: string;
  baseModel: string;
  seed: number;
  epochs: number;
  suffix: string;
  validationShare: number;
  includeUnreviewed: boolean;
  train: SplitFacts;
  validation: SplitFacts | null;
  /** Examples per label (stratum) on each side of the split. */
  byLabel: Record<string, { train: number; validation: number }>;
  estimate: { trainingTokens: number; epochs: number; billedTokens: number; trainingUsd: number; trainingPerMTok: number; hostingPerHourUsd: number; priceSource: string };
}

export interface UploadedFile {
  /** The name uploaded: it carries the content hash, so a crash between upload and record can find the upload again. */
  filename: string;
  sha256: string;
  id: string;
}

export interface StartState {
  endpoint: string;
  trainingFile?: UploadedFile;
  validationFile?: UploadedFile;
  job?: { id: string; model: string; createdAt: string };
  /** The last status seen, and the result once the job ended. */
  status?: string;
  fineTunedModel?: string | null;
}

export function readManifest(dir: string): FineTuneManifest | undefined {
  const file = path.join(dir, MANIFEST_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as FineTuneManifest;
}

export function readStartState(dir: string): StartState | undefined {
  const file = path.join(dir, START_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as StartState;
}

/** Write then rename: a kill never leaves half a state file (and with it a second upload or job on the next start). */
export function writeStartState(dir: string, state: StartState): void {
  const file = path.join(dir, START_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}
