/** The Files and Batch API calls a backfill makes, on the openai SDK (auth, retries and api-version as for chat calls). */
import type OpenAI from 'openai';
import { toFile } from 'openai';

import type { BatchJobStatus } from './batchState';

export interface BatchJob {
  id: string;
  status: BatchJobStatus;
  inputFileId: string;
  outputFileId: string | null;
  errorFileId: string | null;
  counts: { total: number; completed: number; failed: number };
  errors: { code: string; message: string; line: number | string | null }[];
}

export interface BatchApiOptions {
  /** How long to wait between looks at an uploaded file until it is `processed`. */
  filePollMs: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Azure's chat endpoint path inside a batch (its examples; v1 uses /v1/chat/completions). */
export const BATCH_ENDPOINT = '/chat/completions';

export class BatchApi {
  readonly #client: OpenAI;
  readonly #options: BatchApiOptions;
  readonly #sleep: (ms: number) => Promise<void>;

  /** `client` must not name a deployment: the SDK would send `/batches` to `/deployments/<name>/batches`. */
  constructor(client: OpenAI, options: BatchApiOptions) {
    this.#client = client;
    this.#options = options;
    this.#sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Uploads with purpose `batch` (or `fine-tune`, for shared/finetune) and waits until Azure has processed the file (a batch or job on a pending file is refused). */
  async upload(name: string, content: string, signal?: AbortSignal, purpose: 'batch' | 'fine-tune' = 'batch'): Promise<string> {
    const file = await this.#client.files.create({ file: await toFile(Buffer.from(content, 'utf8'), name, { type: 'application/jsonl' }), purpose }, { signal });
    let status = file.status;
    while (status !== 'processed') {
      if (status === 'error') throw new Error(`The uploaded file ${file.id} could not be processed: ${file.status_details ?? 'no details'}`);
      await this.#sleep(this.#options.filePollMs);
      status = (await this.#client.files.retrieve(file.id, { signal })).status;
    }
    return file.id;
  }

  async create(inputFileId: string, metadata: Record<string, string>, signal?: AbortSignal): Promise<BatchJob> {
    // Azure takes the path without /v1; the SDK's type lists only the OpenAI spellings.
    const endpoint = BATCH_ENDPOINT as unknown as '/v1/chat/completions';
    return toJob(await this.#client.batches.create({ input_file_id: inputFileId, endpoint, completion_window: '24h', metadata }, { signal }));
  }

  async get(id: string, signal?: AbortSignal): Promise<BatchJob> {
    return toJob(await this.#client.batches.retrieve(id, { signal }));
  }

  async cancel(id: string): Promise<BatchJob> {
    return toJob(await this.#client.batches.cancel(id));
  }

  async download(fileId: string, signal?: AbortSignal): Promise<string> {
    const response = await this.#client.files.content(fileId, { signal });
    return response.text();
  }
}

function toJob(b: OpenAI.Batches.Batch): BatchJob {
  const data = (b.errors?.data ?? []) as { code?: string; message?: string; line?: number | string | null }[];
  return {
    id: b.id,
    status: b.status,
    inputFileId: b.input_file_id,
    outputFileId: emptyToNull(b.output_file_id),
    errorFileId: emptyToNull(b.error_file_id),
    counts: { total: b.request_counts?.total ?? 0, completed: b.request_counts?.completed ?? 0, failed: b.request_counts?.failed ?? 0 },
    errors: (Array.isArray(data) ? data : [data]).map((e) => ({ code: e.code ?? 'unknown', message: e.message ?? '', line: e.line ?? null })),
  };
}

/** Azure's queueing sample shows `""` for files not made yet. */
function emptyToNull(id: string | null | undefined): string | null {
  return id === undefined || id === null || id === '' ? null : id;
}
