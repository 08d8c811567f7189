/** Routes `/openai/files...` and `/openai/batches...` of the fake to the Files and Batch APIs, answering batch lines like online calls. */
import { answerFromSchema } from './answerFromSchema';
import type { BatchOutcome, BatchTiming, FakeBatch, FakeBatches } from './batchesApi';
import { createFakeBatches } from './batchesApi';
import { buildCompletion } from './buildCompletion';
import type { AnswerContext, AnswerRule } from './fakeOpenAIServer';
import type { FakeFile, FakeFiles } from './filesApi';
import { createFakeFiles } from './filesApi';
import { createFakeFineTuning, type FakeFineTuningControl, type FineTuningOptions } from './fineTuningApi';
import { schemaViolations } from './schemaViolations';
import { ServiceError } from './serviceError';
import { validateChatRequest } from './validateChatRequest';

export interface FilesAndBatchesOptions {
  /** Global-Batch deployment names; default ['gpt-4o-batch']. */
  batchDeployments?: string[];
  batchTiming?: Partial<BatchTiming>;
  /** Per-file line limit; default 100,000. */
  batchMaxLines?: number;
  fileProcessingMs?: number;
  /** The fine-tuning jobs API (fineTuningApi.ts) on the same files. */
  fineTuning?: FineTuningOptions;
}

/** Test controls for the Files and Batch APIs. */
export interface FakeBatchControl {
  nextOutcome(...outcomes: BatchOutcome[]): void;
  release(id: string): void;
  get(id: string): FakeBatch | undefined;
  files(): FakeFile[];
  fileContent(id: string): Buffer | undefined;
  /** Batch lines answered by the model: what Azure bills at batch prices. */
  readonly linesAnswered: number;
  readonly fineTuning: FakeFineTuningControl;
}

export interface FilesAndBatches {
  matches(pathname: string): boolean;
  serve(method: string, pathname: string, query: URLSearchParams, headers: Record<string, string>, raw: Buffer): Promise<{ status: number; body: unknown; headers?: Record<string, string>; raw?: Buffer }>;
  control: FakeBatchControl;
  clear(): void;
}

export function createFilesAndBatches(options: FilesAndBatchesOptions, deps: { onlineDeployments: readonly string[]; model: string; maxOutputTokens: number; rule: () => AnswerRule }): FilesAndBatches {
  const files: FakeFiles = createFakeFiles(options.fileProcessingMs === undefined ? {} : { processingMs: options.fileProcessingMs });
  const batches: FakeBatches = createFakeBatches(files, {
    batchDeployments: options.batchDeployments ?? ['gpt-4o-batch'],
    onlineDeployments: deps.onlineDeployments,
    ...(options.batchTiming === undefined ? {} : { timing: options.batchTiming }),
    ...(options.batchMaxLines === undefined ? {} : { maxLines: options.batchMaxLines }),
    answer: answerLine,
  });
  const fineTuning = createFakeFineTuning(files, options.fineTuning);

  let lineIndex = 0;
  async function answerLine(body: unknown): Promise<{ status: number; body: unknown }> {
    try {
      const request = await validateChatRequest(body, 'azure', { maxOutputTokens: deps.maxOutputTokens });
      const schema = request.schema ?? {};
      const ctx: AnswerContext = { schema, messages: request.messages, images: request.images, requestIndex: lineIndex++, body: request.body };
      const produced = (deps.rule() ?? ((c: AnswerContext) => ({ answer: answerFromSchema(c.schema) })))(ctx);
      if (request.strict && request.schema !== undefined) {
        const problems = schemaViolations(produced.answer, request.schema);
        if (problems.length > 0) return { status: 500, body: { error: { code: 'FakeAnswerRuleError', message: `fake OpenAI: the answer rule violates the strict schema: ${problems.join('; ')}` } } };
      }
      return { status: 200, body: buildCompletion({ request, route: 'azure', model: deps.model, answer: produced.answer, confidences: produced.confidences, fault: undefined }) };
    } catch (e) {
      if (e instanceof ServiceError) return { status: e.status, body: e.body };
      return { status: 500, body: { error: { code: 'FakeServerError', message: String(e) } } };
    }
  }

  return {
    matches: (pathname) => /^\/openai\/(files|batches|fine_tuning)(\/|$)/.test(pathname),
    async serve(method, pathname, query, headers, raw) {
      if (pathname.startsWith('/openai/files')) return files.handle(method, pathname, query, headers, raw);
      if (pathname.startsWith('/openai/fine_tuning')) return fineTuning.handle(method, pathname, query, raw);
      let body: unknown;
      if (method === 'POST' && raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          throw new ServiceError(400, { message: 'The request body is not valid JSON.', type: 'invalid_request_error', param: null, code: null });
        }
      }
      return batches.handle(method, pathname, query, body);
    },
    control: {
      nextOutcome: (...o) => batches.nextOutcome(...o),
      release: (id) => batches.release(id),
      get: (id) => batches.get(id),
      files: () => files.list(),
      fileContent: (id) => files.content(id),
      get linesAnswered() {
        return batches.linesAnswered;
      },
      fineTuning: fineTuning.control,
    },
    clear() {
      files.clear();
      batches.clear();
      fineTuning.clear();
      lineIndex = 0;
    },
  };
}
