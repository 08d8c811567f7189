/** A loopback fake of the Azure AI Foundry model inference endpoint (`/models/chat/completions`), as strict as MI and the docs. */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { flattenHeaders, parseOrRaw, readBody } from '../fakeHttp';
import { answerFromSchema } from '../fakeOpenAI/answerFromSchema';
import type { ImageInfo } from '../fakeOpenAI/inspectImage';
import type { JsonSchemaObject } from '../fakeOpenAI/jsonSchemaObject';
import type { ExtraParameters } from './foundryContract';
import { FOUNDRY_API_VERSIONS, FOUNDRY_EXTRA_PARAMETERS, PHI_4_MULTIMODAL } from './foundryContract';
import { coreError, FoundryError, invalidInput } from './foundryError';
import type { FoundryModelLimits, ValidatedFoundryRequest } from './validateFoundryRequest';
import { validateFoundryRequest } from './validateFoundryRequest';

/** Opens the schema block the client puts in the system message (shared/model/providers/adaptChatRequest.ts). */
const SCHEMA_PROMPT_HEADER = 'valid against this JSON schema:';

export type FoundryFault =
  /** 200 with prose instead of the JSON object asked for: what a small model does when it ignores the format. */
  | { kind: 'prose'; text?: string }
  /** 429 with `retry-after` seconds (default 1). */
  | { kind: 'throttle'; retryAfterSeconds?: number }
  /** 500 (default) or 503 in MI's error envelope. */
  | { kind: 'server-error'; status?: 500 | 503 };

export interface FoundryAnswerContext {
  /** The schema the system message describes, or `{}` when it holds none. */
  schema: JsonSchemaObject;
  images: ImageInfo[];
  request: ValidatedFoundryRequest;
}

export type FoundryAnswerRule = (ctx: FoundryAnswerContext) => unknown;

export interface FakeFoundryOptions {
  /** Deployment names accepted as the body's `model`; default [Phi-4-multimodal-instruct]. */
  deployments?: string[];
  /** Accepted `api-key`; default 'foundry-key'. */
  apiKey?: string;
  /** Accepted bearer token (a token for an identity holding the role); default 'foundry-token'. */
  bearerToken?: string;
  /** A valid token of an identity without a role on the resource: 403. */
  forbiddenToken?: string;
  /** Model limits; default Phi-4-multimodal's: one image per turn, JSON mode yes, json_schema no. */
  limits?: Partial<FoundryModelLimits>;
}

export interface FoundryRecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  status: number;
  /** For answered chat requests: what reached the model. */
  validated?: ValidatedFoundryRequest;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

export interface FakeFoundry {
  /** `http://127.0.0.1:<port>`: what FOUNDRY_ENDPOINT is set to (`/models` is the API's root). */
  readonly url: string;
  readonly apiKey: string;
  readonly bearerToken: string;
  readonly forbiddenToken: string;
  readonly deployment: string;
  readonly apiVersion: string;
  readonly requests: FoundryRecordedRequest[];
  setAnswer(rule: FoundryAnswerRule): void;
  /** One per chat request that passes routing, auth, api-version, model and validation. */
  enqueue(...faults: FoundryFault[]): void;
  reset(): void;
  close(): Promise<void>;
}

/** Tokens the fake bills per image: deterministic, so cost tests can compute the expected figure. */
export const FAKE_FOUNDRY_IMAGE_TOKENS = 1_000;

export async function startFakeFoundry(options: FakeFoundryOptions = {}): Promise<FakeFoundry> {
  const deployments = options.deployments ?? [PHI_4_MULTIMODAL];
  const apiKey = options.apiKey ?? 'foundry-key';
  const bearerToken = options.bearerToken ?? 'foundry-token';
  const forbiddenToken = options.forbiddenToken ?? 'foundry-token-without-role';
  const limits: FoundryModelLimits = { imagesPerTurn: 1, jsonMode: true, jsonSchema: false, ...options.limits };
  const requests: FoundryRecordedRequest[] = [];
  const faults: FoundryFault[] = [];
  const defaultRule: FoundryAnswerRule = (ctx) => answerFromSchema(ctx.schema);
  let rule = defaultRule;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, undefined, 500, { error: { code: 'FakeServerError', message: `fake Foundry crashed: ${String(error)}` } }, { 'x-should-retry': 'false' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const text = (await readBody(req)).toString('utf8');
    const record: FoundryRecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: flattenHeaders(req.headers),
      body: parseOrRaw(text),
      status: 0,
    };
    requests.push(record);
    try {
      if (record.method !== 'POST' || url.pathname !== '/models/chat/completions') throw coreError(404, '404', 'Resource not found');
      checkAuth(req.headers);
      const version = url.searchParams.get('api-version');
      if (version === null || version === '') throw coreError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
      if (!(FOUNDRY_API_VERSIONS as readonly string[]).includes(version)) {
        throw coreError(400, 'UnsupportedApiVersion', `Unsupported api-version '${version}'. The supported api-versions are '${FOUNDRY_API_VERSIONS.join("', '")}'.`);
      }
      const extraHeader = record.headers['extra-parameters'] ?? 'error';
      if (!(FOUNDRY_EXTRA_PARAMETERS as readonly string[]).includes(extraHeader)) {
        throw invalidInput(`The extra-parameters header must be one of ${FOUNDRY_EXTRA_PARAMETERS.join(', ')}; got '${extraHeader}'.`, 'extra-parameters');
      }
      if (typeof record.body === 'string') throw invalidInput('The request body is not valid JSON.');
      const model = (record.body as Record<string, unknown> | null)?.['model'];
      if (model === undefined) {
        throw coreError(400, 'no_model_name', 'No model specified in request. Please provide a model name in the request body or as a x-ms-model-mesh-model-name header.');
      }
      if (typeof model !== 'string' || !deployments.includes(model)) throw coreError(404, 'unknown_model', `Unknown model: ${JSON.stringify(model)}`);
      const request = await validateFoundryRequest(record.body, extraHeader as ExtraParameters, limits);

      const fault = faults.shift();
      if (fault?.kind === 'throttle') {
        const seconds = fault.retryAfterSeconds ?? 1;
        throw coreError(429, 'RateLimitExceeded', `Rate limit is exceeded. Try again in ${seconds} seconds.`, { 'retry-after': String(seconds) });
      }
      if (fault?.kind === 'server-error') {
        throw fault.status === 503 ? coreError(503, 'ServiceUnavailable', 'The service is temporarily unable to process your request.') : coreError(500, 'InternalServerError', 'The server had an error processing your request.');
      }

      const schema = schemaFromPrompt(request.messages);
      const content = fault?.kind === 'prose' ? (fault.text ?? 'The image shows a product on a white background; it looks like a red sneaker.') : JSON.stringify(rule({ schema, images: request.images, request }));
      const usage = {
        prompt_tokens: Math.ceil(JSON.stringify(request.messages).replace(/data:image\/[^"]+/g, '').length / 4) + request.images.length * FAKE_FOUNDRY_IMAGE_TOKENS,
        completion_tokens: Math.ceil(content.length / 4),
      };
      record.validated = request;
      record.usage = usage;
      send(res, record, 200, {
        id: randomUUID(),
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: PHI_4_MULTIMODAL,
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content, tool_calls: null }, logprobs: null }],
        usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
      });
    } catch (error) {
      if (error instanceof FoundryError) {
        send(res, record, error.status, error.body, error.headers);
        return;
      }
      throw error;
    }
  }

  function checkAuth(headers: IncomingHttpHeaders): void {
    const key = headers['api-key'];
    const authorization = headers.authorization;
    const bearer = typeof authorization === 'string' && /^Bearer /i.test(authorization) ? authorization.slice(7).trim() : undefined;
    // mm-rest: the key goes in `api-key` or as `Authorization: Bearer <key>`; an Entra token as the bearer.
    const presented = key ?? bearer;
    if (presented === undefined) throw coreError(401, 'Unauthorized', 'Access denied due to missing subscription key or token. Provide an api-key header or an Authorization: Bearer token.');
    if (presented === apiKey || (bearer !== undefined && bearer === bearerToken)) return;
    if (bearer !== undefined && bearer === forbiddenToken) {
      throw coreError(403, 'PermissionDenied', 'The principal lacks the required data action Microsoft.CognitiveServices/accounts/MaaS/chat/completions/action to perform POST /models/chat/completions.');
    }
    throw coreError(401, 'Unauthorized', 'Access denied due to invalid subscription key or token, or the audience is incorrect (https://cognitiveservices.azure.com).');
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
    forbiddenToken,
    deployment: deployments[0] ?? PHI_4_MULTIMODAL,
    apiVersion: FOUNDRY_API_VERSIONS[0],
    requests,
    setAnswer(next) {
      rule = next;
    },
    enqueue(...next) {
      faults.push(...next);
    },
    reset() {
      faults.length = 0;
      requests.length = 0;
      rule = defaultRule;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The JSON schema a system message describes after SCHEMA_PROMPT_HEADER, as a model would read it; `{}` when none. */
function schemaFromPrompt(messages: readonly Record<string, unknown>[]): JsonSchemaObject {
  for (const m of messages) {
    const content = m['content'];
    if (m['role'] !== 'system' || typeof content !== 'string') continue;
    const at = content.indexOf(SCHEMA_PROMPT_HEADER);
    if (at < 0) continue;
    const rest = content.slice(at + SCHEMA_PROMPT_HEADER.length).trim();
    try {
      return JSON.parse(rest.split('\n')[0] ?? '') as JsonSchemaObject;
    } catch {
      return {};
    }
  }
  return {};
}

function send(res: ServerResponse, record: FoundryRecordedRequest | undefined, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (record !== undefined) record.status = status;
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'apim-request-id': randomUUID(), ...headers });
  res.end(text);
}



