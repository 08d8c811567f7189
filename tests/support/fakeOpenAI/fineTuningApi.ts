/**
 * The fake's Azure OpenAI fine-tuning API (`/openai/fine_tuning/jobs...`, GA 2024-10-21 authoring spec): create, list,
 * get, delete, events, checkpoints, cancel. Jobs move through Azure's states (`FineTuningState`: pending, running,
 * succeeded / failed / cancelled; the spec says `created` is never returned, and OpenAI's `validating_files` / `queued`
 * are not Azure's) on a compressed clock the test sets, and fail or stay running on demand.
 *
 * What the real service refuses is refused: a training file that does not exist, is not `fine-tune`, or is not yet
 * `processed` gets a 400 at create; a base model that cannot be fine-tuned, a bad suffix or hyperparameter, or a
 * property the GA schema does not have, too. The file's content is checked while the job is `pending`, as Azure does
 * ("validation may take longer"): lines that are not vision chat examples, images in assistant turns, formats other than
 * JPEG/PNG/WebP, more than 64 images in an example, an image over 10 MB or fewer than 10 examples fail the job with
 * the line named.
 */
import { randomBytes } from 'node:crypto';

import type { FakeFiles } from './filesApi';
import { invalidRequest, ServiceError } from './serviceError';

export type FineTuningState = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface FineTuningTiming {
  /** Real ms a job stays `pending` (file validation and queue); default 30. */
  pendingMs: number;
  /** Real ms per epoch while `running` (a checkpoint is written at the end of each); default 30. */
  epochMs: number;
}

export interface FineTuningOptions {
  timing?: Partial<FineTuningTiming>;
  /** Base models that accept fine-tuning (vision: gpt-4o 2024-08-06, gpt-4.1 2025-04-14); default both. */
  models?: string[];
}

/** What the next created job does: run to the end, fail while running, or stay running until `release`. */
export type FineTuningOutcome = 'succeed' | 'fail' | 'hold';

interface Job {
  id: string;
  createdAt: number;
  model: string;
  trainingFile: string;
  validationFile: string | null;
  nEpochs: number;
  seed: number;
  suffix: string | null;
  outcome: FineTuningOutcome;
  /** Real ms; `runningAt` once validation passed, `endedAt` once terminal. */
  createdMs: number;
  runningAt: number | null;
  endedAt: number | null;
  status: FineTuningState;
  error: { code: string; message: string; param: string | null } | null;
  fineTunedModel: string | null;
  events: { id: string; created_at: number; level: 'info' | 'warning' | 'error'; message: string; type: 'message' | 'metrics' }[];
  checkpoints: number;
  trainedTokens: number;
}

export interface FakeFineTuningControl {
  /** Outcomes for the next created jobs, in order; then `succeed`. */
  nextOutcome(...outcomes: FineTuningOutcome[]): void;
  /** Lets a `hold` job finish its epochs and succeed. */
  release(id: string): void;
  /** Cancels as someone in the portal would. */
  cancel(id: string): void;
  /** Every job created, oldest first, with its current status. */
  jobs(): { id: string; status: FineTuningState; trainingFile: string; validationFile: string | null; nEpochs: number; seed: number; suffix: string | null; model: string }[];
  /** POST /fine_tuning/jobs calls that created a job. */
  readonly created: number;
}

export interface FakeFineTuning {
  handle(method: string, pathname: string, query: URLSearchParams, raw: Buffer): { status: number; body: unknown; headers?: Record<string, string>; raw?: Buffer };
  control: FakeFineTuningControl;
  clear(): void;
}

/** Azure's vision fine-tuning data rules (learn.microsoft.com, "Vision fine-tuning", Image dataset requirements). */
const MIN_EXAMPLES = 10;
const MAX_IMAGES_PER_EXAMPLE = 64;
const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
const IMAGE_TYPES = new Set(['image/jpeg', 'image/jpg', 'image/png', 'image/webp']);
const CREATE_KEYS = new Set(['model', 'training_file', 'validation_file', 'hyperparameters', 'suffix', 'seed']);
const HYPER_KEYS = new Set(['n_epochs', 'batch_size', 'learning_rate_multiplier']);
const DEFAULT_EPOCHS = 3;

export function createFakeFineTuning(files: FakeFiles, options: FineTuningOptions = {}): FakeFineTuning {
  const timing: FineTuningTiming = { pendingMs: 30, epochMs: 30, ...options.timing };
  const models = new Set(options.models ?? ['gpt-4o-2024-08-06', 'gpt-4.1-2025-04-14']);
  const jobs = new Map<string, Job>();
  const outcomes: FineTuningOutcome[] = [];
  let created = 0;

  const seconds = (): number => Math.floor(Date.now() / 1000);
  function event(job: Job, message: string, level: 'info' | 'warning' | 'error' = 'info', type: 'message' | 'metrics' = 'message'): void {
    job.events.push({ id: `ftevent-${randomBytes(12).toString('hex')}`, created_at: seconds(), level, message, type });
  }

  function end(job: Job, status: 'succeeded' | 'failed' | 'cancelled', error: Job['error'] = null): void {
    job.status = status;
    job.endedAt = Date.now();
    job.error = error;
    if (status === 'succeeded') {
      job.fineTunedModel = `${job.model}.ft-${job.id.replace(/^ftjob-/, '')}${job.suffix === null ? '' : `-${job.suffix}`}`;
      event(job, `Training job succeeded. Fine-tuned model: ${job.fineTunedModel}`);
    } else if (status === 'failed') event(job, `Training job failed: ${error?.message ?? 'unknown error'}`, 'error');
    else event(job, 'Training job cancelled.');
  }

  /** Moves a job along the clock: state is derived when it is looked at, as the Files API does. */
  function advance(job: Job): void {
    const now = Date.now();
    if (job.status === 'pending' && now - job.createdMs >= timing.pendingMs) {
      const problem = validateTrainingContent(files.content(job.trainingFile) ?? Buffer.alloc(0), 'training_file') ?? (job.validationFile === null ? undefined : validateTrainingContent(files.content(job.validationFile) ?? Buffer.alloc(0), 'validation_file', 1));
      if (problem !== undefined) {
        end(job, 'failed', problem);
        return;
      }
      event(job, 'Validated training file.');
      job.status = 'running';
      job.runningAt = now;
      event(job, 'Training job started.');
    }
    if (job.status !== 'running' || job.runningAt === null) return;
    const epochsDone = Math.min(job.nEpochs, Math.floor((now - job.runningAt) / timing.epochMs));
    if (job.outcome === 'fail' && epochsDone >= 1) {
      end(job, 'failed', { code: 'internalError', message: 'The training job failed due to an internal error (fake: failure on demand).', param: null });
      return;
    }
    const held = job.outcome === 'hold' ? Math.min(epochsDone, job.nEpochs - 1) : epochsDone;
    while (job.checkpoints < held) {
      job.checkpoints++;
      job.trainedTokens += 1000;
      event(job, `Step ${job.checkpoints * 10}: training loss=${(1 / (job.checkpoints + 1)).toFixed(4)}`, 'info', 'metrics');
      event(job, `Checkpoint created at step ${job.checkpoints * 10}.`);
    }
    if (job.outcome !== 'hold' && epochsDone >= job.nEpochs) end(job, 'succeeded');
  }

  function view(job: Job): Record<string, unknown> {
    advance(job);
    return {
      object: 'fine_tuning.job',
      id: job.id,
      created_at: job.createdAt,
      status: job.status,
      model: job.model,
      training_file: job.trainingFile,
      ...(job.validationFile === null ? {} : { validation_file: job.validationFile }),
      hyperparameters: { n_epochs: job.nEpochs },
      seed: job.seed,
      ...(job.suffix === null ? {} : { suffix: job.suffix }),
      ...(job.fineTunedModel === null ? {} : { fine_tuned_model: job.fineTunedModel }),
      result_files: job.status === 'succeeded' ? [`file-results-${job.id}`] : [],
      ...(job.endedAt === null ? {} : { finished_at: Math.floor(job.endedAt / 1000) }),
      ...(job.status === 'succeeded' ? { trained_tokens: job.trainedTokens } : {}),
      ...(job.error === null ? {} : { error: job.error }),
    };
  }

  function find(id: string): Job {
    const job = jobs.get(id);
    if (job === undefined) throw new ServiceError(404, { code: 'notFound', message: `The specified fine-tuning job '${id}' could not be found.` });
    return job;
  }

  function create(raw: Buffer): { status: number; body: unknown; headers?: Record<string, string> } {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw invalidRequest('The request body is not valid JSON.');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('The request body must be a FineTuningJobCreation object.');
    const b = body as Record<string, unknown>;
    for (const key of Object.keys(b)) if (!CREATE_KEYS.has(key)) throw invalidRequest(`Unknown parameter '${key}' (not in FineTuningJobCreation of this api-version).`, key);
    if (typeof b['model'] !== 'string' || b['model'] === '') throw invalidRequest("'model' is a required property", 'model');
    if (!models.has(b['model'])) throw invalidRequest(`The base model '${b['model']}' does not support fine-tuning.`, 'model');
    if (typeof b['training_file'] !== 'string' || b['training_file'] === '') throw invalidRequest("'training_file' is a required property", 'training_file');
    const training = checkFile(b['training_file'], 'training_file');
    const validation = b['validation_file'] === undefined ? null : checkFile(b['validation_file'], 'validation_file');
    const hyper = b['hyperparameters'];
    let nEpochs = DEFAULT_EPOCHS;
    if (hyper !== undefined) {
      if (typeof hyper !== 'object' || hyper === null || Array.isArray(hyper)) throw invalidRequest("'hyperparameters' must be an object", 'hyperparameters');
      for (const key of Object.keys(hyper)) if (!HYPER_KEYS.has(key)) throw invalidRequest(`Unknown hyperparameter '${key}'.`, `hyperparameters.${key}`);
      const n = (hyper as Record<string, unknown>)['n_epochs'];
      if (n !== undefined) {
        if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 50) throw invalidRequest('n_epochs must be an integer from 1 to 50.', 'hyperparameters.n_epochs');
        nEpochs = n as number;
      }
    }
    const suffix = b['suffix'];
    if (suffix !== undefined && (typeof suffix !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(suffix))) throw invalidRequest('The suffix can contain up to 40 characters (a-z, A-Z, 0-9, - and _).', 'suffix');
    const seed = b['seed'];
    if (seed !== undefined && (!Number.isInteger(seed) || (seed as number) < 0 || (seed as number) > 2_147_483_647)) throw invalidRequest('seed must be a 32-bit integer.', 'seed');

    const id = `ftjob-${randomBytes(16).toString('hex')}`;
    const job: Job = {
      id,
      createdAt: seconds(),
      model: b['model'],
      trainingFile: training,
      validationFile: validation,
      nEpochs,
      seed: (seed as number | undefined) ?? randomBytes(4).readUInt32BE(0) >>> 1,
      suffix: (suffix) ?? null,
      outcome: outcomes.shift() ?? 'succeed',
      createdMs: Date.now(),
      runningAt: null,
      endedAt: null,
      status: 'pending',
      error: null,
      fineTunedModel: null,
      events: [],
      checkpoints: 0,
      trainedTokens: 0,
    };
    event(job, 'Job enqueued. Validating training file.');
    jobs.set(id, job);
    created++;
    return { status: 201, body: view(job), headers: { location: `/openai/fine_tuning/jobs/${id}` } };
  }

  function checkFile(id: unknown, param: string): string {
    if (typeof id !== 'string' || id === '') throw invalidRequest(`'${param}' must be a file id.`, param);
    const file = files.get(id);
    if (file === undefined) throw invalidRequest(`The file '${id}' could not be found.`, param, 'invalidPayload');
    if (file.purpose !== 'fine-tune') throw invalidRequest(`The file '${id}' has purpose '${file.purpose}'; fine-tuning needs purpose 'fine-tune'.`, param, 'invalidPayload');
    if (file.status !== 'processed') throw invalidRequest(`The file '${id}' is not processed yet (status ${file.status}); wait until it is.`, param, 'unexpectedEntityState');
    return id;
  }

  function page<T extends { id: string }>(items: T[], query: URLSearchParams, defaultLimit: number): { object: 'list'; data: T[]; has_more: boolean } {
    const limitRaw = query.get('limit');
    const limit = limitRaw === null ? defaultLimit : Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidRequest('limit must be an integer from 1 to 100.', 'limit');
    const after = query.get('after');
    const start = after === null ? 0 : items.findIndex((i) => i.id === after) + 1;
    const data = items.slice(start, start + limit);
    return { object: 'list', data, has_more: start + limit < items.length };
  }

  return {
    handle(method, pathname, query, raw) {
      if (pathname === '/openai/fine_tuning/jobs') {
        if (method === 'POST') return create(raw);
        if (method === 'GET') {
          const all = [...jobs.values()].reverse().map((j) => view(j) as { id: string });
          return { status: 200, body: page(all, query, 20) };
        }
        throw new ServiceError(405, { code: 'MethodNotAllowed', message: `${method} is not allowed on /fine_tuning/jobs.` });
      }
      const match = /^\/openai\/fine_tuning\/jobs\/([^/]+)(?:\/(events|checkpoints|cancel))?$/.exec(pathname);
      if (match === null) throw new ServiceError(404, { code: '404', message: 'Resource not found' });
      const job = find(decodeURIComponent(match[1] ?? ''));
      const sub = match[2];
      if (sub === undefined) {
        if (method === 'GET') return { status: 200, body: view(job) };
        if (method === 'DELETE') {
          advance(job);
          if (job.status === 'pending' || job.status === 'running') throw invalidRequest('Only a job that has ended can be deleted; cancel it first.', null, 'unexpectedEntityState');
          jobs.delete(job.id);
          return { status: 204, body: undefined, raw: Buffer.alloc(0) };
        }
        throw new ServiceError(405, { code: 'MethodNotAllowed', message: `${method} is not allowed on a fine-tuning job.` });
      }
      if (sub === 'cancel') {
        if (method !== 'POST') throw new ServiceError(405, { code: 'MethodNotAllowed', message: `${method} is not allowed on cancel.` });
        advance(job);
        if (job.status !== 'pending' && job.status !== 'running') throw invalidRequest(`The job has already ${job.status}; only a pending or running job can be cancelled.`, null, 'unexpectedEntityState');
        end(job, 'cancelled');
        return { status: 200, body: view(job) };
      }
      if (method !== 'GET') throw new ServiceError(405, { code: 'MethodNotAllowed', message: `${method} is not allowed on ${sub}.` });
      advance(job);
      if (sub === 'events') return { status: 200, body: page([...job.events].reverse().map((e) => ({ object: 'fine_tuning.job.event', ...e })), query, 20) };
      const checkpoints = Array.from({ length: job.checkpoints }, (_, i) => ({
        object: 'fine_tuning.job.checkpoint',
        id: `ftchkpt-${job.id.slice(6, 18)}${i + 1}`,
        created_at: job.createdAt,
        fine_tuned_model_checkpoint: `${job.model}.ft-${job.id.replace(/^ftjob-/, '')}:ckpt-step-${(i + 1) * 10}`,
        step_number: (i + 1) * 10,
        metrics: { step: (i + 1) * 10, train_loss: 1 / (i + 2) },
        fine_tuning_job_id: job.id,
      })).reverse();
      return { status: 200, body: page(checkpoints, query, 10) };
    },
    control: {
      nextOutcome: (...o) => void outcomes.push(...o),
      release(id) {
        const job = find(id);
        if (job.outcome === 'hold') job.outcome = 'succeed';
      },
      cancel(id) {
        const job = find(id);
        advance(job);
        if (job.status === 'pending' || job.status === 'running') end(job, 'cancelled');
      },
      jobs: () => [...jobs.values()].map((j) => (advance(j), { id: j.id, status: j.status, trainingFile: j.trainingFile, validationFile: j.validationFile, nEpochs: j.nEpochs, seed: j.seed, suffix: j.suffix, model: j.model })),
      get created() {
        return created;
      },
    },
    clear() {
      jobs.clear();
      outcomes.length = 0;
      created = 0;
    },
  };
}

/** The first problem of a fine-tuning JSONL file, as the job's error (`param` names the file), or undefined. */
export function validateTrainingContent(content: Buffer, param: string, minExamples = MIN_EXAMPLES): { code: string; message: string; param: string } | undefined {
  const fail = (message: string): { code: string; message: string; param: string } => ({ code: 'invalidTrainingFile', message, param });
  let text = content.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  let examples = 0;
  for (const [i, line] of lines.entries()) {
    const n = i + 1;
    if (line.trim() === '') return fail(`Line ${n} is empty.`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return fail(`Line ${n} is not valid JSON.`);
    }
    const messages = (parsed as { messages?: unknown } | null)?.messages;
    if (!Array.isArray(messages) || messages.length === 0) return fail(`Line ${n} has no "messages" array.`);
    let images = 0;
    let assistant = false;
    for (const m of messages as unknown[]) {
      const role = (m as { role?: unknown } | null)?.role;
      if (role !== 'system' && role !== 'user' && role !== 'assistant') return fail(`Line ${n}: a message has role ${JSON.stringify(role)}; expected system, user or assistant.`);
      const content = (m as { content?: unknown }).content;
      if (role === 'assistant') assistant = true;
      if (typeof content === 'string') continue;
      if (!Array.isArray(content)) return fail(`Line ${n}: a ${role} message has no content.`);
      for (const part of content as unknown[]) {
        const type = (part as { type?: unknown } | null)?.type;
        if (type === 'text') continue;
        if (type !== 'image_url') return fail(`Line ${n}: content part of type ${JSON.stringify(type)} is not supported.`);
        if (role === 'assistant') return fail(`Line ${n}: an assistant message contains an image; images are only allowed in user and system messages.`);
        images++;
        const url = (part as { image_url?: { url?: unknown } }).image_url?.url;
        if (typeof url !== 'string') return fail(`Line ${n}: an image_url part has no url.`);
        if (url.startsWith('data:')) {
          const m2 = /^data:([^;,]+);base64,(.*)$/s.exec(url);
          if (m2 === null) return fail(`Line ${n}: an image data URL is not base64.`);
          if (!IMAGE_TYPES.has((m2[1] ?? '').toLowerCase())) return fail(`Line ${n}: image type ${m2[1] ?? ''} is not supported; use JPEG, PNG or WEBP.`);
          if (Buffer.byteLength(m2[2] ?? '', 'base64') > MAX_IMAGE_BYTES) return fail(`Line ${n}: an image is larger than 10 MB.`);
        } else if (!url.startsWith('https://')) return fail(`Line ${n}: an image url must be https:// or a data URL.`);
      }
    }
    if (!assistant) return fail(`Line ${n} has no assistant message to learn from.`);
    if (images > MAX_IMAGES_PER_EXAMPLE) return fail(`Line ${n} has ${images} images; an example may have at most ${MAX_IMAGES_PER_EXAMPLE}.`);
    examples++;
  }
  if (examples < minExamples) return fail(`The ${param.replace('_', ' ')} has ${examples} example(s); at least ${minExamples} are required.`);
  return undefined;
}
