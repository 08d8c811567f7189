/** `batch.json` in the run folder: what was uploaded and created, so a crashed backfill resumes instead of paying again. */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const BATCH_STATE_FILE = 'batch.json';

export type BatchJobStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['failed', 'completed', 'expired', 'cancelled']);

export interface BatchPart {
  /** 1-based position among the files of this backfill. */
  index: number;
  /** custom_id of every line (the image content's SHA-256), in file order. */
  customIds: string[];
  inputFileId: string | null;
  batchId: string | null;
  status: BatchJobStatus | null;
  outputFileId: string | null;
  errorFileId: string | null;
  /** Set once output and error files are saved in the run folder. */
  downloaded: boolean;
  /** Validation errors of a `failed` batch. */
  errors: { code: string; message: string; line: number | string | null }[];
}

export interface BatchState {
  version: 1;
  profile: { name: string; version: string };
  /** The Global-Batch deployment named on every line. */
  deployment: string;
  parts: BatchPart[];
}

export function readBatchState(runDir: string): BatchState | undefined {
  const file = path.join(runDir, BATCH_STATE_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as BatchState;
}

/** Written whole to a temporary file and renamed, so a crash never leaves half a state behind. */
export function writeBatchState(runDir: string, state: BatchState): void {
  const file = path.join(runDir, BATCH_STATE_FILE);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}
