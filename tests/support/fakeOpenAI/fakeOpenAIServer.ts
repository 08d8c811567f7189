/** A loopback fake of Azure OpenAI chat completions (and its OpenAI-compatible twin) that is as strict as the service. */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { flattenHeaders, parseOrRaw } from '../fakeHttp';
import { answerFromSchema } from './answerFromSchema';
import { buildCompletion } from './buildCompletion';
import { contentFilterResults } from './contentFilterResults';
import { DEFAULT_FILTER_CATEGORY, type Fault } from './fault';
import { createFilesAndBatches, type FakeBatchControl, type FilesAndBatchesOptions } from './filesAndBatchesRoute';
import type { ImageInfo } from './inspectImage';
import type { JsonSchemaObject } from './jsonSchemaObject';
import { placeOutsideEnum } from './placeOutsideEnum';
import { createPromptCache } from './promptCache';
import { createQuotaGate, type QuotaGate, type QuotaOptions } from './quota';
import { schemaViolations } from './schemaViolations';
import { AZURE_API_VERSIONS_DEFAULT } from './serviceContract';
import { azureGatewayError, invalidRequest, invalidUrl, resourceNotFound, type Route, ServiceError } from './serviceError';
import { GPT_4O_MAX_OUTPUT_TOKENS, validateChatRequest } from './validateChatRequest';

export interface FakeOpenAIOptions {
  /** Accepted deployment names (Azure route) and model names (OpenAI route); default ['gpt-4o']. */
  deployments?: string[];
  /** Accepted `api-key` header; default 'test-key'. */
  apiKey?: string;
  /** Accepted `Authorization: Bearer <token>`; default 'test-token'. */
  bearerToken?: string;
  /** Accepted `api-version` values; default ['2024-10-21']. */
  apiVersions?: string[];
  /** Model name reported in responses (and also accepted as a model name on the OpenAI route); default 'gpt-4o-2024-11-20'. */
  model?: string;
  /** Largest `max_tokens` / `max_completion_tokens` accepted: the model's output limit; default GPT-4o's 16,384. */
  maxOutputTokens?: number;
  /** The Files and Batch APIs (`/openai/files`, `/openai/batches`): Global-Batch deployments, compressed timing, limits. */
  batch?: FilesAndBatchesOptions;
  /** Report `prompt_tokens_details.cached_tokens` for repeated prefixes of 1,024+ tokens, as Azure does; default true. */
  promptCaching?: boolean;
  /** A deployment with a quota (TPM/RPM windows, 429s, reference latency, time compression): see quota.ts. */
  quota?: QuotaOptions;
}

export interface AnswerContext {
  /** `response_format.json_schema.schema`, or `{}` when the request sent none. */
  schema: JsonSchemaObject;
  messages: unknown[];
  images: ImageInfo[];
  /** Position of this request in `requests` (0-based, counted since the last reset). */
  requestIndex: number;
  body: Record<string, unknown>;
}

/**
 * Decides what the fake model answers. `confidences` maps a dot-joined property path ('label', 'tags.red',
 * 'objects.0.label' for array items) to the probability that value's tokens carry; 0.97 for any path not listed.
 */
export type AnswerRule = (ctx: AnswerContext) => { answer: unknown; confidences?: Record<string, number> };

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** HTTP status answered; 0 while unanswered (a hang, or a client that went away first). */
  status: number;
  /** The error message answered, or why no answer was sent. */
  error?: string;
  /** Date.now() when the request arrived and when the answer was written (chaos runs line them up with events). */
  receivedAt?: number;
  answeredAt?: number;
}

export interface FakeOpenAI {
  /** `http://127.0.0.1:<port>`: the Azure endpoint. The OpenAI-compatible base URL is `${url}/v1`. */
  readonly url: string;
  readonly apiKey: string;
  readonly bearerToken: string;
  /** The first accepted deployment and api-version, for building clients. */
  readonly deployment: string;
  readonly apiVersion: string;
  setAnswer(rule: AnswerRule): void;
  /** Consumed one per chat request that gets past routing, auth, api-version, deployment and request validation; then normal answers. */
  enqueue(...faults: Fault[]): void;
  readonly pendingFaults: number;
  /** Decides a fault per chat request when none is queued (chaos runs: faults at random rates); undefined = answer normally. */
  setFaultPlan(plan: ((requestIndex: number) => Fault | undefined) | undefined): void;
  readonly requests: RecordedRequest[];
  /** The Files and Batch APIs' state and on-demand outcomes. */
  readonly batch: FakeBatchControl;
  /** The quota mode's gate (counts, options); undefined without `quota`. */
  readonly quota: QuotaGate | undefined;
  /** Clears queued faults, recorded requests and the answer rule. */
  reset(): void;
  /** Stops listening and destroys open sockets, hanging requests included. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const defaultRule: AnswerRule = (ctx) => ({ answer: answerFromSchema(ctx.schema) });

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const deployments = options.deployments ?? ['gpt-4o'];
  const apiKey = options.apiKey ?? 'test-key';
  const bearerToken = options.bearerToken ?? 'test-token';
  const apiVersions = options.apiVersions ?? [...AZURE_API_VERSIONS_DEFAULT];
  const model = options.model ?? 'gpt-4o-2024-11-20';
  const maxOutputTokens = options.maxOutputTokens ?? GPT_4O_MAX_OUTPUT_TOKENS;

  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  let plan: ((requestIndex: number) => Fault | undefined) | undefined;
  let chatIndex = 0;
  const sleepers = new Set<() => void>();
  let rule: AnswerRule = defaultRule;
  let closing = false;
  const promptCache = options.promptCaching === false ? undefined : createPromptCache();
  const filesAndBatches = createFilesAndBatches(options.batch ?? {}, { onlineDeployments: deployments, model, maxOutputTokens, rule: () => rule });
  const quota = options.quota === undefined ? undefined : createQuotaGate(options.quota);

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) res.destroy(error instanceof Error ? error : undefined);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(req);
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: flattenHeaders(req.headers),
      body: raw.tooLarge ? '<body too large>' : parseOrRaw(raw.text),
      status: 0,
      receivedAt: Date.now(),
    };
    requests.push(record);
    const requestIndex = requests.length - 1;
    const route: Route = url.pathname.startsWith('/v1/') || url.pathname === '/v1' ? 'openai' : 'azure';

    if (route === 'azure' && filesAndBatches.matches(url.pathname)) {
      await serveFilesAndBatches(req, res, record, url, raw);
      return;
    }

    try {
      const deployment = matchRoute(record.method, url.pathname, route);
      checkAuth(route, req.headers);
      if (route === 'azure') {
        const version = url.searchParams.get('api-version');
        if (version === null || version === '') throw resourceNotFound();
        if (!apiVersions.includes(version)) throw azureGatewayError(400, 'BadRequest', 'API version not supported');
        if (deployment === undefined || !deployments.includes(deployment)) {
          throw azureGatewayError(
            404,
            'DeploymentNotFound',
            'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
          );
        }
      }
      if (raw.tooLarge) throw azureGatewayError(413, 'RequestEntityTooLarge', 'The request body is too large.');

      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.text);
      } catch {
        throw invalidRequest(
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
        );
      }
      const request = await validateChatRequest(parsed, route, { maxOutputTokens });
      if (route === 'openai' && request.model !== undefined && !deployments.includes(request.model) && request.model !== model) {
        throw new ServiceError(404, {
          message: `The model \`${request.model}\` does not exist or you do not have access to it.`,
          type: 'invalid_request_error',
          param: null,
          code: 'model_not_found',
        });
      }

      // The quota is checked on arrival, before the model runs: a 429 costs nothing but time.
      const verdict = quota?.admit(request, route, url.searchParams.get('api-version') ?? '');
      if (verdict?.ok === false) throw verdict.error;
      if (verdict?.ok === true && verdict.latencyMs > 0) {
        await (quota?.sleep ?? sleep)(verdict.latencyMs);
        if (closing) return;
      }

      // Drawn only for a request the service would accept: a bad request gets its 400 and leaves the fault queued.
      const fault = faults.shift() ?? plan?.(chatIndex++);
      if (fault?.kind === 'throttle') throw throttled(fault, route, url.searchParams.get('api-version') ?? '');
      if (fault?.kind === 'server-error') throw serverError(fault.status ?? 500, route);
      if (fault?.kind === 'hang') {
        record.error = 'hang fault: no answer is ever sent';
        return;
      }
      if (fault?.kind === 'slow') {
        await sleep(fault.delayMs);
        if (closing) return;
      }
      if (fault?.kind === 'content-filter-prompt') throw promptFiltered(fault.category ?? DEFAULT_FILTER_CATEGORY);

      const schema = request.schema ?? {};
      const produced = runRule({ schema, messages: request.messages, images: request.images, requestIndex, body: request.body });
      let answer = produced.answer;
      if (fault?.kind === 'outside-enum') {
        const placed = placeOutsideEnum(answer, schema, fault.value ?? 'not_in_enum');
        if (placed === undefined) throw fakeRuleError("the 'outside-enum' fault needs an enum in the request's json_schema");
        answer = placed;
      } else if (request.strict && request.schema !== undefined) {
        const problems = schemaViolations(answer, request.schema);
        if (problems.length > 0) {
          throw fakeRuleError(`the answer rule produced an answer that violates the request's strict schema:\n${problems.join('\n')}`);
        }
      }

      const completion = buildCompletion({ request, route, model, answer, confidences: produced.confidences, fault });
      if (promptCache !== undefined) {
        const details = (completion['usage'] as { prompt_tokens_details: { cached_tokens: number } }).prompt_tokens_details;
        details.cached_tokens = promptCache.lookup(deployment ?? request.model ?? '', request);
      }
      send(res, record, 200, completion, verdict?.headers ?? {
        'x-ratelimit-remaining-requests': '99',
        'x-ratelimit-remaining-tokens': '99000',
      });
    } catch (error) {
      if (error instanceof ServiceError) {
        send(res, record, error.status, error.body, error.headers);
        return;
      }
      send(res, record, 500, { error: { code: 'FakeServerError', message: `fake OpenAI crashed: ${String(error)}` } }, { 'x-should-retry': 'false' });
    }

    function matchRoute(method: string, pathname: string, kind: Route): string | undefined {
      if (kind === 'openai') {
        if (method !== 'POST' || pathname !== '/v1/chat/completions') throw invalidUrl(method, pathname);
        return undefined;
      }
      const match = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(pathname);
      if (method !== 'POST' || match === null) throw resourceNotFound();
      return decodeURIComponent(match[1] ?? '');
    }
  }

  async function serveFilesAndBatches(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, url: URL, raw: { buffer: Buffer; tooLarge: boolean }): Promise<void> {
    try {
      checkAuth('azure', req.headers);
      const version = url.searchParams.get('api-version');
      if (version === null || version === '') throw resourceNotFound();
      if (!apiVersions.includes(version)) throw azureGatewayError(400, 'BadRequest', 'API version not supported');
      if (raw.tooLarge) throw azureGatewayError(413, 'RequestEntityTooLarge', 'The request body is too large.');
      const answer = await filesAndBatches.serve(record.method, url.pathname, url.searchParams, record.headers, raw.buffer);
      if (answer.raw === undefined) {
        send(res, record, answer.status, answer.body, answer.headers);
        return;
      }
      record.status = answer.status;
      record.answeredAt = Date.now();
      res.writeHead(answer.status, { 'content-length': answer.raw.length, ...answer.headers });
      res.end(answer.raw);
    } catch (error) {
      if (error instanceof ServiceError) send(res, record, error.status, error.body, error.headers);
      else send(res, record, 500, { error: { code: 'FakeServerError', message: `fake OpenAI crashed: ${String(error)}` } }, { 'x-should-retry': 'false' });
    }
  }

  function checkAuth(route: Route, headers: IncomingHttpHeaders): void {
    const key = headers['api-key'];
    const authorization = headers.authorization;
    const bearer = typeof authorization === 'string' && /^Bearer /i.test(authorization) ? authorization.slice(7).trim() : undefined;
    if (route === 'openai') {
      if (bearer === undefined) {
        throw new ServiceError(401, {
          message:
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
          type: 'invalid_request_error',
          param: null,
          code: null,
        });
      }
      if (bearer !== bearerToken) {
        throw new ServiceError(401, {
          message: `Incorrect API key provided: ${mask(bearer)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        });
      }
      return;
    }
    if (key !== undefined) {
      if (key === apiKey) return;
      throw azureGatewayError(
        401,
        '401',
        'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
      );
    }
    if (bearer !== undefined) {
      if (bearer === bearerToken) return;
      throw azureGatewayError(
        401,
        '401',
        'Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.',
      );
    }
    throw azureGatewayError(
      401,
      '401',
      'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.',
    );
  }

  function runRule(ctx: AnswerContext): ReturnType<AnswerRule> {
    try {
      return rule(ctx);
    } catch (error) {
      throw fakeRuleError(`the answer rule threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    bearerToken,
    deployment: deployments[0] ?? 'gpt-4o',
    apiVersion: apiVersions[0] ?? AZURE_API_VERSIONS_DEFAULT[0],
    setAnswer(next: AnswerRule): void {
      rule = next;
    },
    enqueue(...next: Fault[]): void {
      faults.push(...next);
    },
    get pendingFaults(): number {
      return faults.length;
    },
    setFaultPlan(next): void {
      plan = next;
      chatIndex = 0;
    },
    requests,
    batch: filesAndBatches.control,
    quota,
    reset(): void {
      promptCache?.clear();
      filesAndBatches.clear();
      quota?.reset();
      faults.length = 0;
      plan = undefined;
      requests.length = 0;
      rule = defaultRule;
    },
    async close(): Promise<void> {
      closing = true;
      for (const wake of [...sleepers]) wake();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function send(res: ServerResponse, record: RecordedRequest, status: number, body: unknown, headers: Record<string, string> = {}): void {
  record.status = status;
  record.answeredAt = Date.now();
  if (status >= 400) {
    const error = (body as { error?: { message?: unknown } }).error;
    record.error = typeof error?.message === 'string' ? error.message : `HTTP ${status}`;
  }
  if (res.destroyed || res.writableEnded) {
    record.status = 0;
    record.error = `client went away before the ${status} answer`;
    return;
  }
  const text = JSON.stringify(body);
  const requestId = randomUUID();
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'apim-request-id': requestId,
    'x-request-id': requestId,
    'x-ms-region': 'Sweden Central',
    ...headers,
  });
  res.end(text);
}

function throttled(fault: Extract<Fault, { kind: 'throttle' }>, route: Route, apiVersion: string): ServiceError {
  const neither = fault.retryAfterMs === undefined && fault.retryAfterSeconds === undefined;
  const ms = fault.retryAfterMs ?? (neither ? 1000 : undefined);
  const seconds = fault.retryAfterSeconds ?? (neither ? 1 : undefined);
  const waitSeconds = seconds ?? Math.max(1, Math.ceil((ms ?? 0) / 1000));
  const headers: Record<string, string> = {};
  if (ms !== undefined) headers['retry-after-ms'] = String(ms);
  if (seconds !== undefined) headers['retry-after'] = String(seconds);
  if (route === 'openai') {
    return new ServiceError(
      429,
      {
        message: `Rate limit reached for gpt-4o in organization org-fake on tokens per min (TPM): Limit 30000, Used 30000, Requested 1200. Please try again in ${ms ?? waitSeconds * 1000}ms. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        type: 'tokens',
        param: null,
        code: 'rate_limit_exceeded',
      },
      headers,
    );
  }
  return azureGatewayError(
    429,
    '429',
    `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${apiVersion} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${waitSeconds} second${waitSeconds === 1 ? '' : 's'}. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
    headers,
  );
}

function serverError(status: 500 | 502 | 503, route: Route): ServiceError {
  if (route === 'openai') {
    const message = status === 503 ? 'The server is overloaded or not ready yet.' : 'The server had an error while processing your request. Sorry about that!';
    return new ServiceError(status, { message, type: 'server_error', param: null, code: null });
  }
  if (status === 502) return azureGatewayError(502, 'BadGateway', 'Bad gateway.');
  if (status === 503) return azureGatewayError(503, 'ServiceUnavailable', 'The service is temporarily unable to process your request. Please try again later.');
  return azureGatewayError(
    500,
    'InternalServerError',
    'The server had an error processing your request. Sorry about that! You can retry your request, or contact us through an Azure support request at: https://go.microsoft.com/fwlink/?linkid=2213926 if you keep seeing this error.',
  );
}

function promptFiltered(category: NonNullable<Extract<Fault, { kind: 'content-filter-prompt' }>['category']>): ServiceError {
  return new ServiceError(400, {
    message:
      "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
    type: null,
    param: 'prompt',
    code: 'content_filter',
    status: 400,
    innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: contentFilterResults('prompt', category) },
  });
}

/** A broken test rule, not a service behaviour: 500 with `x-should-retry: false` so SDK retries do not hide it. */
function fakeRuleError(message: string): ServiceError {
  return new ServiceError(500, { code: 'FakeAnswerRuleError', message: `fake OpenAI: ${message}` }, { 'x-should-retry': 'false' });
}

async function readBody(req: IncomingMessage): Promise<{ text: string; buffer: Buffer; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    // Keep draining past the limit so the client sees the 413 instead of a reset connection.
    if (size <= MAX_BODY_BYTES) chunks.push(buffer);
  }
  const buffer = Buffer.concat(chunks);
  return { text: buffer.toString('utf8'), buffer, tooLarge: size > MAX_BODY_BYTES };
}



function mask(key: string): string {
  return key.length <= 8 ? '*'.repeat(key.length) : `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`;
}
