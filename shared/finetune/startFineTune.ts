/**
 * `blobsight finetune start DIR`: upload the prepared files, create the job on gpt-4o-2024-08-06 and follow it to its
 * end. Every id Azure hands back is written to DIR/start.json before the next paid step, and a step whose answer was
 * lost (a crash between the upload and the record, or between the create and the record) is found again at Azure by
 * what it was made from (the file's hashed name and size, the job's training file), so re-running `start` never
 * uploads twice or creates a second job.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { FineTuneManifest, SplitFacts, StartState, UploadedFile } from './fineTuneManifest';
import { readManifest, readStartState, writeStartState } from './fineTuneManifest';
import type { FineTuneCheckpoint, FineTuneEvent, FineTuneJob, FineTuningApi } from './FineTuningApi';
import { TERMINAL_STATUSES } from './FineTuningApi';
import { FineTuneUsageError } from './prepareFineTune';

export interface FineTuneProgressState {
  jobId: string;
  status: string;
  epochs: number | null;
  checkpoints: FineTuneCheckpoint[];
  latestEvent: string | null;
}

export interface StartOptions {
  dir: string;
  api: FineTuningApi;
  /** The Azure OpenAI endpoint the job lives on: a folder's job is not looked for on another resource. */
  endpoint: string;
  resumeJobId?: string;
  /** The recorded job failed or was cancelled: create a new one on the same uploaded files. */
  retry?: boolean;
  pollMs: number;
  /** Ctrl-C: stop following (the job keeps running at Azure). */
  stop: AbortSignal;
  onProgress?: (p: FineTuneProgressState) => void;
  onEvent?: (e: FineTuneEvent) => void;
}

export interface StartResult {
  job: FineTuneJob;
  /** Files uploaded by this call (0 on a resume). */
  uploaded: number;
  /** Whether this call created the job (false when it was recorded or found again). */
  created: boolean;
  /** Following stopped before the job ended (Ctrl-C). */
  interrupted: boolean;
}

export async function startFineTune(o: StartOptions): Promise<StartResult> {
  const manifest = readManifest(o.dir);
  if (manifest === undefined) throw new FineTuneUsageError(`${o.dir} is not a prepared fine-tuning folder (no finetune.json); run \`blobsight finetune prepare ... --out ${o.dir}\` first.`);
  const state: StartState = readStartState(o.dir) ?? { endpoint: o.endpoint };
  if (state.endpoint !== o.endpoint && (state.trainingFile !== undefined || state.job !== undefined)) {
    throw new FineTuneUsageError(`${o.dir} was started on ${state.endpoint}, not ${o.endpoint}; point AZURE_OPENAI_ENDPOINT there to follow its job.`);
  }
  const save = (): void => writeStartState(o.dir, state);
  let uploaded = 0;
  let created = false;
  let job: FineTuneJob;

  if (o.resumeJobId !== undefined) {
    job = await o.api.get(o.resumeJobId, o.stop);
    if (state.trainingFile !== undefined && job.trainingFile !== state.trainingFile.id) {
      throw new FineTuneUsageError(`Job ${job.id} trains on ${job.trainingFile}, not on this folder's ${state.trainingFile.id}; give the right folder or job id.`);
    }
  } else {
    const upload = async (facts: SplitFacts, side: 'train' | 'validation', known: UploadedFile | undefined): Promise<UploadedFile> => {
      if (known !== undefined && known.sha256 === facts.sha256) return known;
      const content = readFileSync(path.join(o.dir, facts.file), 'utf8');
      const sha = createHash('sha256').update(content).digest('hex');
      if (sha !== facts.sha256) throw new FineTuneUsageError(`${path.join(o.dir, facts.file)} changed since it was prepared and checked; run \`blobsight finetune prepare\` again.`);
      const filename = `blobsight-${manifest.suffix}-${side}-${sha.slice(0, 12)}.jsonl`;
      let id = await o.api.findUpload(filename, Buffer.byteLength(content), o.stop);
      if (id === undefined) {
        id = await o.api.upload(filename, content, o.stop);
        uploaded++;
      }
      return { filename, sha256: sha, id };
    };
    state.endpoint = o.endpoint;
    state.trainingFile = await upload(manifest.train, 'train', state.trainingFile);
    save();
    if (manifest.validation !== null) {
      state.validationFile = await upload(manifest.validation, 'validation', state.validationFile);
      save();
    }
    job = await recordedOrNewJob(o, manifest, state, () => (created = true));
  }
  state.job = { id: job.id, model: job.model, createdAt: state.job?.id === job.id ? state.job.createdAt : new Date().toISOString() };
  state.status = job.status;
  save();

  const seen = new Set<string>();
  let latestEvent: string | null = null;
  for (let look = 0; ; look++) {
    if (look > 0 && !(await sleep(o.pollMs, o.stop))) return { job, uploaded, created, interrupted: true };
    // Events and checkpoints first, then the job: the status shown is never older than the checkpoints beside it (a
    // "pending, 2 checkpoints" line). Once the job has ended, one more look picks up its last events.
    // No signal on these looks: the SDK leaves a listener on it per call, and a job is followed for hours; Ctrl-C
    // ends the sleep between looks instead.
    let [events, checkpoints] = await Promise.all([o.api.events(job.id), o.api.checkpoints(job.id)]);
    job = await o.api.get(job.id);
    if (TERMINAL_STATUSES.has(job.status)) [events, checkpoints] = await Promise.all([o.api.events(job.id), o.api.checkpoints(job.id)]);
    for (const e of events) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      latestEvent = e.message;
      o.onEvent?.(e);
    }
    o.onProgress?.({ jobId: job.id, status: job.status, epochs: job.nEpochs ?? manifest.epochs, checkpoints, latestEvent });
    if (state.status !== job.status) {
      state.status = job.status;
      save();
    }
    if (TERMINAL_STATUSES.has(job.status)) break;
  }
  state.fineTunedModel = job.fineTunedModel;
  save();
  return { job, uploaded, created, interrupted: false };
}

async function recordedOrNewJob(o: StartOptions, manifest: FineTuneManifest, state: StartState, onCreate: () => void): Promise<FineTuneJob> {
  const trainingFile = state.trainingFile?.id as string;
  if (state.job !== undefined) {
    const recorded = await o.api.get(state.job.id, o.stop);
    if (o.retry !== true || (recorded.status !== 'failed' && recorded.status !== 'cancelled')) return recorded;
  } else {
    const found = await o.api.findJobFor(trainingFile, o.stop);
    if (found !== undefined) return found;
  }
  const job = await o.api.create({ model: manifest.baseModel, trainingFile, validationFile: state.validationFile?.id ?? null, nEpochs: manifest.epochs, seed: manifest.seed, suffix: manifest.suffix }, o.stop);
  onCreate();
  return job;
}

/** false when stopped. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
