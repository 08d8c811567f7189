/**
 * The fine-tuning calls `blobsight finetune` makes, on the openai SDK (auth, retries and api-version as for chat
 * calls). Uploads go through the Batch API's Files client (BatchApi.upload, purpose `fine-tune`), not a second one.
 */
import type OpenAI from 'openai';

import type { BatchApi } from '../batch/BatchApi';

/**
 * Azure's `FineTuningState` (GA 2024-10-21: pending, running, succeeded, cancelled, failed; previews add pausing,
 * paused, resuming) and OpenAI's (validating_files, queued, ...) both reach us: the SDK types only OpenAI's.
 */
export type FineTuneStatus = string;
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

export interface FineTuneJob {
  id: string;
  status: FineTuneStatus;
  model: string;
  trainingFile: string;
  validationFile: string | null;
  fineTunedModel: string | null;
  nEpochs: number | null;
  error: { code: string; message: string; param: string | null } | null;
  trainedTokens: number | null;
}

export interface FineTuneEvent {
  id: string;
  createdAt: number;
  level: string;
  message: string;
}

export interface FineTuneCheckpoint {
  id: string;
  step: number;
  model: string;
  metrics: Record<string, number>;
}

export interface CreateJobRequest {
  model: string;
  trainingFile: string;
  validationFile: string | null;
  nEpochs: number;
  seed: number;
  suffix: string;
}

/** Bounds on list walks, so a service that keeps saying has_more cannot loop us forever. */
const MAX_PAGES = 20;

export class FineTuningApi {
  readonly #client: OpenAI;
  readonly #files: BatchApi;
  readonly #pollMs: number;
  readonly #sleep: (ms: number) => Promise<void>;

  /** `client` must not name a deployment (as for BatchApi). */
  constructor(client: OpenAI, files: BatchApi, options: { pollMs: number; sleep?: (ms: number) => Promise<void> }) {
    this.#client = client;
    this.#files = files;
    this.#pollMs = options.pollMs;
    this.#sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Uploads with purpose `fine-tune` and waits until the file is `processed` (a job on a pending file is refused). */
  upload(filename: string, content: string, signal?: AbortSignal): Promise<string> {
    return this.#files.upload(filename, content, signal, 'fine-tune');
  }

  /**
   * A `fine-tune` file uploaded earlier under this name and size (a crash after the upload, before its id was
   * recorded), waited on until processed; undefined when there is none. A file Azure could not process is not reused.
   */
  async findUpload(filename: string, bytes: number, signal?: AbortSignal): Promise<string | undefined> {
    const list = await this.#client.files.list({ purpose: 'fine-tune' }, { signal });
    const found = list.data.find((f) => f.filename === filename && f.bytes === bytes && (f.status as string) !== 'error' && (f.status as string) !== 'deleted');
    if (found === undefined) return undefined;
    let status = found.status as string;
    while (status !== 'processed') {
      if (status === 'error') return undefined;
      await this.#sleep(this.#pollMs);
      status = (await this.#client.files.retrieve(found.id, { signal })).status;
    }
    return found.id;
  }

  async create(r: CreateJobRequest, signal?: AbortSignal): Promise<FineTuneJob> {
    const job = await this.#client.fineTuning.jobs.create(
      { model: r.model, training_file: r.trainingFile, ...(r.validationFile === null ? {} : { validation_file: r.validationFile }), hyperparameters: { n_epochs: r.nEpochs }, seed: r.seed, suffix: r.suffix },
      { signal },
    );
    return toJob(job);
  }

  /** The job (newest first) trained on this file: a crash after create, before the job id was recorded. */
  async findJobFor(trainingFile: string, signal?: AbortSignal): Promise<FineTuneJob | undefined> {
    let after: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const list = await this.#client.fineTuning.jobs.list({ limit: 20, ...(after === undefined ? {} : { after }) }, { signal });
      const found = list.data.find((j) => j.training_file === trainingFile);
      if (found !== undefined) return toJob(found);
      if (!list.has_more || list.data.length === 0) return undefined;
      after = list.data.at(-1)?.id;
    }
    return undefined;
  }

  async get(id: string, signal?: AbortSignal): Promise<FineTuneJob> {
    return toJob(await this.#client.fineTuning.jobs.retrieve(id, { signal }));
  }

  async cancel(id: string): Promise<FineTuneJob> {
    return toJob(await this.#client.fineTuning.jobs.cancel(id));
  }

  /** The newest events (one page), oldest first. */
  async events(id: string, signal?: AbortSignal): Promise<FineTuneEvent[]> {
    const page = await this.#client.fineTuning.jobs.listEvents(id, { limit: 20 }, { signal });
    return page.data.map((e) => ({ id: e.id, createdAt: e.created_at, level: e.level, message: e.message })).reverse();
  }

  /** The newest checkpoints (one page), oldest first. */
  async checkpoints(id: string, signal?: AbortSignal): Promise<FineTuneCheckpoint[]> {
    const page = await this.#client.fineTuning.jobs.checkpoints.list(id, { limit: 10 }, { signal });
    return page.data.map((c) => ({ id: c.id, step: c.step_number, model: c.fine_tuned_model_checkpoint, metrics: Object.fromEntries(Object.entries(c.metrics).filter((e): e is [string, number] => typeof e[1] === 'number')) })).reverse();
  }
}

function toJob(j: OpenAI.FineTuning.Jobs.FineTuningJob): FineTuneJob {
  const n = j.hyperparameters?.n_epochs;
  const error = j.error as { code?: string; message?: string; param?: string | null } | null | undefined;
  return {
    id: j.id,
    status: j.status,
    model: j.model,
    trainingFile: j.training_file,
    validationFile: j.validation_file ?? null,
    fineTunedModel: j.fine_tuned_model ?? null,
    nEpochs: typeof n === 'number' && n > 0 ? n : null,
    error: error === null || error === undefined || (error.code === undefined && error.message === undefined) ? null : { code: error.code ?? 'unknown', message: error.message ?? '', param: error.param ?? null },
    trainedTokens: j.trained_tokens ?? null,
  };
}
