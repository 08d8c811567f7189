/**
 * The fake's Azure OpenAI Batch API (`/openai/batches`): create, get, list, cancel, with the published life cycle
 * validating → in_progress → finalizing → completed (or failed / expired / cancelling → cancelled) on compressed time,
 * Azure's input validation (one Global-Batch deployment on every line, unique custom_id, valid JSON lines, the batch's
 * url, at most 100,000 lines), and per-line answers from the same chat-completions code as online calls.
 */
import { randomUUID } from 'node:crypto';

import type { FakeFiles } from './filesApi';
import { invalidRequest, ServiceError } from './serviceError';

export type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

/** What the next created batch does, on demand (tests); default: every line answered. */
export type BatchOutcome =
  /** These lines (by custom_id) get a 500 in the error file instead of an answer. */
  | { kind: 'fail-lines'; customIds: string[] }
  /** The 24 h window runs out after this many lines: the rest go to the error file as `batch_expired`. */
  | { kind: 'expire'; afterLines: number }
  /** Sits in in_progress until cancelled or told otherwise (for crash/resume tests). */
  | { kind: 'stall' };

export interface BatchTiming {
  /** Real ms per phase: the service's hours run in milliseconds here. */
  validatingMs: number;
  inProgressMs: number;
  finalizingMs: number;
  cancellingMs: number;
}

export interface BatchesApiOptions {
  /** Deployment names of SKU GlobalBatch; a line naming another model fails the batch (`invalid_request` / `model_not_found`). */
  batchDeployments: readonly string[];
  /** Other (online) deployments the resource has: naming one is `invalid_request` (SKU not globalbatch), not `model_not_found`. */
  onlineDeployments: readonly string[];
  timing?: Partial<BatchTiming>;
  /** Per-file line limit; default 100,000 (Azure). */
  maxLines?: number;
  /** Answers one line's body as the online endpoint would: status and JSON body (a chat.completion or an error). */
  answer(body: unknown): Promise<{ status: number; body: unknown }>;
}

export interface BatchErrorData {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

export interface FakeBatch {
  id: string;
  object: 'batch';
  endpoint: string;
  errors: { object: 'list'; data: BatchErrorData[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

export interface FakeBatches {
  handle(method: string, pathname: string, query: URLSearchParams, body: unknown): Promise<{ status: number; body: unknown }>;
  /** Queues what the next created batches do, one per batch. */
  nextOutcome(...outcomes: BatchOutcome[]): void;
  /** Lets a stalled batch finish normally. */
  release(id: string): void;
  get(id: string): FakeBatch | undefined;
  /** Chat lines the fake answered inside batches (for billing checks). */
  readonly linesAnswered: number;
  clear(): void;
}

interface State {
  batch: FakeBatch;
  createdMs: number;
  outcome: BatchOutcome | undefined;
  lines: InputLine[];
  results: Map<string, { status: number; body: unknown }>;
  answering: Promise<void> | undefined;
  cancelRequestedMs: number | undefined;
  stalled: boolean;
}

interface InputLine {
  custom_id: string;
  body: unknown;
}

const DEFAULT_TIMING: BatchTiming = { validatingMs: 30, inProgressMs: 120, finalizingMs: 30, cancellingMs: 40 };
const DAY_SECONDS = 86_400;

export function createFakeBatches(files: FakeFiles, options: BatchesApiOptions): FakeBatches {
  const timing: BatchTiming = { ...DEFAULT_TIMING, ...options.timing };
  const maxLines = options.maxLines ?? 100_000;
  const batches = new Map<string, State>();
  const outcomes: BatchOutcome[] = [];
  let linesAnswered = 0;

  /** Moves a batch along its life cycle to where the elapsed (compressed) time puts it. */
  async function advance(s: State): Promise<void> {
    const now = Date.now();
    const b = s.batch;
    const stamp = (): number => Math.floor(Date.now() / 1000);
    if (b.status === 'validating' && now - s.createdMs >= timing.validatingMs) {
      const problems = validate(s);
      if (problems.length > 0) {
        Object.assign(b, { status: 'failed', failed_at: stamp(), errors: { object: 'list', data: problems } });
        return;
      }
      b.request_counts.total = s.lines.length;
      Object.assign(b, { status: 'in_progress', in_progress_at: stamp() });
    }
    if (b.status === 'in_progress' || b.status === 'cancelling') {
      s.answering ??= answerAll(s);
      await s.answering;
      const runningFor = now - s.createdMs - timing.validatingMs;
      const share = Math.min(1, Math.max(0, runningFor / timing.inProgressMs));
      const visible = s.stalled ? Math.floor(s.lines.length / 2) : Math.floor(s.lines.length * share);
      const limit = s.outcome?.kind === 'expire' ? Math.min(visible, s.outcome.afterLines) : visible;
      const shown = s.lines.slice(0, limit);
      b.request_counts.completed = shown.filter((l) => (s.results.get(l.custom_id)?.status ?? 500) === 200).length;
      b.request_counts.failed = shown.length - b.request_counts.completed;
      if (b.status === 'cancelling') {
        if (now - (s.cancelRequestedMs ?? now) >= timing.cancellingMs) finish(s, 'cancelled', shown);
        return;
      }
      if (s.outcome?.kind === 'expire' && share >= 1) {
        finish(s, 'expired', shown);
        return;
      }
      if (share >= 1 && !s.stalled) Object.assign(b, { status: 'finalizing', finalizing_at: stamp() });
    }
    if (b.status === 'finalizing' && now - s.createdMs >= timing.validatingMs + timing.inProgressMs + timing.finalizingMs) finish(s, 'completed', s.lines);
  }

  async function answerAll(s: State): Promise<void> {
    for (const line of s.lines) {
      const failed = s.outcome?.kind === 'fail-lines' && s.outcome.customIds.includes(line.custom_id);
      const result = failed
        ? { status: 500, body: { error: { code: 'InternalServerError', message: 'The server had an error processing your request.' } } }
        : await options.answer(line.body);
      if (result.status === 200) linesAnswered++;
      s.results.set(line.custom_id, result);
    }
  }

  /** Writes the output file (answered lines) and the error file (failed or never-run lines; empty but present on success). */
  function finish(s: State, status: 'completed' | 'cancelled' | 'expired', ran: readonly InputLine[]): void {
    const b = s.batch;
    const ranIds = new Set(ran.map((l) => l.custom_id));
    const out: string[] = [];
    const err: string[] = [];
    for (const line of s.lines) {
      const result = s.results.get(line.custom_id);
      if (ranIds.has(line.custom_id) && result !== undefined) {
        const row = JSON.stringify({ custom_id: line.custom_id, response: { body: result.body, request_id: randomUUID(), status_code: result.status }, error: null });
        (result.status === 200 ? out : err).push(row);
      } else if (status === 'expired') {
        err.push(JSON.stringify({ custom_id: line.custom_id, response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } }));
      } else if (status === 'cancelled') {
        err.push(JSON.stringify({ custom_id: line.custom_id, response: null, error: { code: 'batch_cancelled', message: 'This request was not executed because the batch was cancelled.' } }));
      }
    }
    // Output order is not input order (Azure says so): reversed here so a client cannot rely on it.
    out.reverse();
    const stamp = Math.floor(Date.now() / 1000);
    b.output_file_id = out.length > 0 || status === 'completed' ? files.create(`${b.id}_output.jsonl`, 'batch_output', Buffer.from(out.map((l) => `${l}\n`).join(''))).id : null;
    b.error_file_id = files.create(`${b.id}_error.jsonl`, 'batch_output', Buffer.from(err.map((l) => `${l}\n`).join(''))).id;
    b.request_counts.completed = out.length;
    b.request_counts.failed = err.length;
    b.status = status;
    if (status === 'completed') b.completed_at = stamp;
    if (status === 'cancelled') b.cancelled_at = stamp;
    if (status === 'expired') b.expired_at = stamp;
  }

  /** Azure's validation of the input file (batch.md error codes); the line numbers are 1-based. */
  function validate(s: State): BatchErrorData[] {
    const content = files.content(s.batch.input_file_id) ?? Buffer.alloc(0);
    const problems: BatchErrorData[] = [];
    if (content.length === 0) return [{ code: 'empty_file', message: 'The input file is empty. Please ensure that the batch contains at least one request.', param: null, line: null }];
    if (content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf) {
      return [{ code: 'invalid_request', message: "Validation failed: A valid model deployment name couldn't be extracted from the input file. Please ensure that each row in the input file has a valid deployment name specified in the 'model' field, and that the deployment name is consistent across all rows.", param: null, line: null }];
    }
    const rows = content.toString('utf8').split('\n');
    if (rows.at(-1) === '') rows.pop();
    if (rows.length > maxLines) return [{ code: 'too_many_tasks', message: `The number of tasks in the input file exceeds the maximum of ${maxLines}.`, param: null, line: null }];
    const seen = new Set<string>();
    let model: string | undefined;
    rows.forEach((row, i) => {
      const line = i + 1;
      let parsed: unknown;
      try {
        parsed = JSON.parse(row);
      } catch {
        problems.push({ code: 'invalid_json_line', message: `Line ${line} is not valid JSON.`, param: null, line });
        return;
      }
      const p = parsed as { custom_id?: unknown; method?: unknown; url?: unknown; body?: unknown };
      if (typeof p !== 'object' || p === null || typeof p.custom_id !== 'string' || p.custom_id === '' || typeof p.body !== 'object' || p.body === null) {
        problems.push({ code: 'invalid_request', message: `Line ${line} needs custom_id, method, url and body.`, param: null, line });
        return;
      }
      if (p.method !== 'POST') problems.push({ code: 'invalid_request', message: `Line ${line}: method must be POST.`, param: 'method', line });
      if (p.url !== s.batch.endpoint) problems.push({ code: 'url_mismatch', message: `Line ${line}: url ${JSON.stringify(p.url)} does not match the batch endpoint ${s.batch.endpoint}.`, param: 'url', line });
      if (seen.has(p.custom_id)) problems.push({ code: 'duplicate_custom_id', message: `Line ${line}: custom_id ${JSON.stringify(p.custom_id)} is used more than once.`, param: 'custom_id', line });
      seen.add(p.custom_id);
      const m = (p.body as { model?: unknown }).model;
      if (typeof m !== 'string' || !options.batchDeployments.includes(m)) {
        const online = typeof m === 'string' && options.onlineDeployments.includes(m);
        problems.push(
          online
            ? { code: 'invalid_request', message: `Line ${line}: deployment ${m} is not of SKU globalbatch.`, param: 'model', line }
            : { code: 'model_not_found', message: `Line ${line}: the deployment ${JSON.stringify(m)} does not exist.`, param: 'model', line },
        );
      } else if (model !== undefined && m !== model) problems.push({ code: 'model_mismatch', message: `Line ${line}: model ${m} differs from ${model} on an earlier line; every line must name the same deployment.`, param: 'model', line });
      model ??= typeof m === 'string' ? m : undefined;
      s.lines.push({ custom_id: p.custom_id, body: p.body });
    });
    return problems;
  }

  function publicView(s: State): FakeBatch {
    return structuredClone(s.batch);
  }

  function find(id: string): State {
    const s = batches.get(id);
    if (s === undefined) throw new ServiceError(404, { code: 'batchNotFound', message: `Batch with id '${id}' not found.` });
    return s;
  }

  return {
    async handle(method, pathname, query, body) {
      if (pathname === '/openai/batches') {
        if (method === 'GET') {
          const limit = Number(query.get('limit') ?? '20');
          const after = query.get('after');
          const all = [...batches.values()].reverse();
          for (const s of all) await advance(s);
          const start = after === null ? 0 : all.findIndex((s) => s.batch.id === after) + 1;
          const page = all.slice(start, start + limit).map(publicView);
          return { status: 200, body: { object: 'list', data: page, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null, has_more: start + limit < all.length } };
        }
        if (method !== 'POST') throw new ServiceError(405, { code: 'MethodNotAllowed', message: `${method} is not allowed on /batches.` });
        return { status: 200, body: publicView(create(body)) };
      }
      const match = /^\/openai\/batches\/([^/]+)(\/cancel)?$/.exec(pathname);
      if (match === null) throw new ServiceError(404, { code: '404', message: 'Resource not found' });
      const s = find(decodeURIComponent(match[1] ?? ''));
      await advance(s);
      if (match[2] !== undefined) {
        if (method !== 'POST') throw new ServiceError(405, { code: 'MethodNotAllowed', message: `${method} is not allowed on cancel.` });
        if (s.batch.status === 'validating' || s.batch.status === 'in_progress' || s.batch.status === 'finalizing') {
          s.batch.status = 'cancelling';
          s.batch.cancelling_at = Math.floor(Date.now() / 1000);
          s.cancelRequestedMs = Date.now();
          s.stalled = false;
          s.answering ??= s.lines.length > 0 ? answerAll(s) : Promise.resolve();
        } else if (s.batch.status !== 'cancelling') {
          throw invalidRequest(`Batch ${s.batch.id} is ${s.batch.status} and cannot be cancelled.`, null, 'invalid_state');
        }
        return { status: 200, body: publicView(s) };
      }
      if (method !== 'GET') throw new ServiceError(405, { code: 'MethodNotAllowed', message: `${method} is not allowed on a batch.` });
      return { status: 200, body: publicView(s) };
    },
    nextOutcome(...next) {
      outcomes.push(...next);
    },
    release(id) {
      const s = batches.get(id);
      if (s !== undefined) {
        s.stalled = false;
        s.outcome = undefined;
      }
    },
    get(id) {
      const s = batches.get(id);
      return s === undefined ? undefined : publicView(s);
    },
    get linesAnswered() {
      return linesAnswered;
    },
    clear() {
      batches.clear();
      outcomes.length = 0;
      linesAnswered = 0;
    },
  };

  function create(body: unknown): State {
    if (typeof body !== 'object' || body === null) throw invalidRequest('The request body must be a JSON object.');
    const b = body as Record<string, unknown>;
    const input = b['input_file_id'];
    if (typeof input !== 'string' || input === '') throw invalidRequest("'input_file_id' is a required property", 'input_file_id');
    const endpoint = b['endpoint'];
    if (typeof endpoint !== 'string' || endpoint === '') throw invalidRequest("'endpoint' is a required property", 'endpoint');
    if (endpoint !== '/chat/completions' && endpoint !== '/v1/chat/completions' && endpoint !== '/embeddings') throw invalidRequest(`The endpoint ${endpoint} is not supported for batches.`, 'endpoint');
    if (b['completion_window'] !== '24h') throw invalidRequest("completion_window must be '24h'.", 'completion_window');
    const file = files.get(input);
    if (file === undefined) throw new ServiceError(404, { code: 'fileNotFound', message: `File with id '${input}' not found.` });
    if (file.purpose !== 'batch') throw invalidRequest(`File ${input} has purpose '${file.purpose}'; a batch needs a file uploaded with purpose 'batch'.`, 'input_file_id', 'invalid_file_purpose');
    if (file.status !== 'processed') throw invalidRequest(`File ${input} is ${file.status}; wait until it is processed.`, 'input_file_id', 'file_not_processed');
    const metadata = b['metadata'];
    const created = Math.floor(Date.now() / 1000);
    const outcome = outcomes.shift();
    const batch: FakeBatch = {
      id: `batch_${randomUUID()}`,
      object: 'batch',
      endpoint,
      errors: null,
      input_file_id: input,
      completion_window: '24h',
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: created,
      in_progress_at: null,
      expires_at: created + DAY_SECONDS,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, string>) : null,
    };
    const state: State = { batch, createdMs: Date.now(), outcome, lines: [], results: new Map(), answering: undefined, cancelRequestedMs: undefined, stalled: outcome?.kind === 'stall' };
    batches.set(batch.id, state);
    return state;
  }
}
