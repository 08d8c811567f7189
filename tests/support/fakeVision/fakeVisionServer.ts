/** A loopback fake of Azure AI Vision Image Analysis 4.0 (`/computervision/imageanalysis:analyze`), as strict as IA and the docs. */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import sharp from 'sharp';

import { flattenHeaders, readBody } from '../fakeHttp';
import type { FakeVisionObject } from './detectColourObjects';
import { detectColourObjects } from './detectColourObjects';
import { VISION_ANALYZE_PATH, VISION_API_VERSIONS, VISION_FEATURES, VISION_MAX_BYTES, VISION_MAX_SIDE_EXCLUSIVE, VISION_MIN_SIDE, VISION_MODEL_VERSION } from './visionContract';
import { invalidRequest, plainError, VisionError } from './visionError';

export type VisionFault =
  /** 429 with `retry-after` seconds (default 1). */
  | { kind: 'throttle'; retryAfterSeconds?: number }
  /** 500 (default) or 503. */
  | { kind: 'server-error'; status?: 500 | 503 }
  /** Answers after `ms` (the client's timeout decides what happens). */
  | { kind: 'slow'; ms: number }
  /** 200 whose body is not an ImageAnalysisResult: not JSON (default) or JSON without `objectsResult`. */
  | { kind: 'malformed'; body?: 'not-json' | 'no-objects-result' };

export interface VisionAnswerContext {
  /** Size of the analysed image (what `metadata` reports; the boxes are in its pixels). */
  width: number;
  height: number;
  bytes: Buffer;
  /** What the colour detector found, for rules that add to it. */
  detected: FakeVisionObject[];
}

/** Returns `objectsResult.values`. */
export type VisionAnswerRule = (ctx: VisionAnswerContext) => FakeVisionObject[];

export interface FakeVisionOptions {
  /** Accepted `Ocp-Apim-Subscription-Key`; default 'vision-key'. */
  apiKey?: string;
  /** Accepted bearer token (an identity holding Cognitive Services User); default 'vision-token'. */
  bearerToken?: string;
  /** A valid token of an identity without a role on the resource: 403. */
  forbiddenToken?: string;
}

export interface VisionRecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  bytes: number;
  status: number;
}

export interface FakeVision {
  /** `http://127.0.0.1:<port>`: what VISION_ENDPOINT is set to. */
  readonly url: string;
  readonly apiKey: string;
  readonly bearerToken: string;
  readonly forbiddenToken: string;
  readonly apiVersion: string;
  readonly requests: VisionRecordedRequest[];
  /** Answered (200) analyze calls: what the service would bill. */
  readonly transactions: number;
  setAnswer(rule: VisionAnswerRule): void;
  /** One per analyze request that passes routing, auth, parameters and image checks. */
  enqueue(...faults: VisionFault[]): void;
  reset(): void;
  close(): Promise<void>;
}

const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'gif', 'webp', 'tiff']);

export async function startFakeVision(options: FakeVisionOptions = {}): Promise<FakeVision> {
  const apiKey = options.apiKey ?? 'vision-key';
  const bearerToken = options.bearerToken ?? 'vision-token';
  const forbiddenToken = options.forbiddenToken ?? 'vision-token-without-role';
  const requests: VisionRecordedRequest[] = [];
  const faults: VisionFault[] = [];
  const defaultRule: VisionAnswerRule = (ctx) => ctx.detected;
  let rule = defaultRule;
  let transactions = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, undefined, 500, { error: { code: 'FakeServerError', message: `fake Vision crashed: ${String(error)}` } });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const body = await readBody(req);
    const record: VisionRecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: flattenHeaders(req.headers), bytes: body.length, status: 0 };
    requests.push(record);
    try {
      if (record.method !== 'POST' || url.pathname !== VISION_ANALYZE_PATH) throw plainError(404, '404', 'Resource not found');
      checkAuth(req.headers);
      const version = url.searchParams.get('api-version');
      // GUESS (codes and wording of the version errors): the docs name neither; the Azure.Core defaults are used.
      if (version === null || version === '') throw invalidRequest('MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
      if (!(VISION_API_VERSIONS as readonly string[]).includes(version)) throw invalidRequest('UnsupportedApiVersion', `Unsupported api-version '${version}'. The supported api-versions are '${VISION_API_VERSIONS.join("', '")}'.`);
      const features = (url.searchParams.get('features') ?? '').split(',').map((f) => f.trim()).filter((f) => f !== '');
      if (features.length === 0) throw invalidRequest('MissingFeatures', 'The features query parameter is required: at least one visual feature must be specified.');
      const unknown = features.find((f) => !(VISION_FEATURES as readonly string[]).includes(f));
      if (unknown !== undefined) throw invalidRequest('NotSupportedVisualFeature', `The visual feature '${unknown}' is not supported. Supported features: ${VISION_FEATURES.join(', ')}.`);
      if (!features.includes('objects')) throw invalidRequest('NotSupportedVisualFeature', `The fake Vision endpoint implements only the objects feature; asked for ${features.join(', ')}.`);
      const language = url.searchParams.get('language');
      if (language !== null && language !== 'en') throw invalidRequest('NotSupportedLanguage', `The objects feature is only available in English; language '${language}' is not supported.`);

      const contentType = (record.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (contentType === 'application/json') throw invalidRequest('InvalidImageUrl', 'The fake Vision endpoint does not fetch image URLs; send the image bytes as application/octet-stream.');
      if (contentType !== 'application/octet-stream') throw invalidRequest('InvalidContentType', `Content-Type '${contentType}' is not supported; use application/octet-stream (image bytes) or application/json ({"url": ...}).`);
      if (body.length === 0) throw invalidRequest('InvalidImageSize', 'The input image is empty (0 bytes).');
      if (body.length > VISION_MAX_BYTES) throw invalidRequest('InvalidImageSize', `The input image is ${body.length} bytes; the maximum is ${VISION_MAX_BYTES} bytes (20 MB).`);
      const { width, height } = await imageSize(body);
      if (Math.min(width, height) < VISION_MIN_SIDE || Math.max(width, height) >= VISION_MAX_SIDE_EXCLUSIVE) {
        throw invalidRequest('InvalidImageSize', `The input image is ${width}x${height} pixels; images must be at least ${VISION_MIN_SIDE}x${VISION_MIN_SIDE} and smaller than ${VISION_MAX_SIDE_EXCLUSIVE}x${VISION_MAX_SIDE_EXCLUSIVE} pixels.`);
      }

      const fault = faults.shift();
      if (fault?.kind === 'throttle') {
        const seconds = fault.retryAfterSeconds ?? 1;
        throw plainError(429, '429', `Requests to the Analyze Operation under Computer Vision API have exceeded rate limit of your current tier. Please retry after ${seconds} seconds.`, { 'retry-after': String(seconds) });
      }
      if (fault?.kind === 'server-error') {
        throw fault.status === 503 ? plainError(503, 'ServiceUnavailable', 'The service is temporarily unable to process your request.') : plainError(500, 'InternalServerError', 'An unexpected error occurred.');
      }
      if (fault?.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.ms));
      transactions++;
      if (fault?.kind === 'malformed') {
        if (fault.body === 'no-objects-result') send(res, record, 200, { metadata: { width, height }, modelVersion: VISION_MODEL_VERSION });
        else sendText(res, record, 200, '<html><body>Bad gateway</body></html>');
        return;
      }
      const values = rule({ width, height, bytes: body, detected: await detectColourObjects(body) });
      send(res, record, 200, { modelVersion: VISION_MODEL_VERSION, metadata: { width, height }, objectsResult: { values } });
    } catch (error) {
      if (error instanceof VisionError) {
        send(res, record, error.status, error.body, error.headers);
        return;
      }
      throw error;
    }
  }

  function checkAuth(headers: IncomingHttpHeaders): void {
    const key = headers['ocp-apim-subscription-key'];
    const authorization = headers.authorization;
    const bearer = typeof authorization === 'string' && /^Bearer /i.test(authorization) ? authorization.slice(7).trim() : undefined;
    if (key === undefined && bearer === undefined) throw plainError(401, '401', 'Access denied due to missing subscription key or token. Make sure to include an Ocp-Apim-Subscription-Key header or an Authorization: Bearer token when making requests to an API.');
    if (key !== undefined) {
      if (key === apiKey) return;
      throw plainError(401, '401', 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.');
    }
    if (bearer === bearerToken) return;
    if (bearer === forbiddenToken) throw plainError(403, 'PermissionDenied', 'The principal lacks the required data action Microsoft.CognitiveServices/accounts/ComputerVision/imageanalysis:analyze/action.');
    throw plainError(401, '401', 'Access denied due to invalid token, or the audience is incorrect (https://cognitiveservices.azure.com).');
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
    apiVersion: VISION_API_VERSIONS[0],
    requests,
    get transactions() {
      return transactions;
    },
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
      transactions = 0;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The bytes' image size, or the 400 the service answers for data that is not an image of a supported format. */
async function imageSize(bytes: Buffer): Promise<{ width: number; height: number }> {
  try {
    const m = await sharp(bytes).metadata();
    if (m.format === undefined || !ACCEPTED_FORMATS.has(m.format) || m.width === undefined || m.height === undefined) throw new Error(`format ${String(m.format)}`);
    return { width: m.width, height: m.height };
  } catch {
    throw invalidRequest('InvalidImageFormat', 'Input data is not a valid image. Supported formats: JPEG, PNG, GIF, BMP, WEBP, ICO, TIFF, MPO.');
  }
}

function send(res: ServerResponse, record: VisionRecordedRequest | undefined, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, record, status, JSON.stringify(body), { 'content-type': 'application/json; charset=utf-8', ...headers });
}

function sendText(res: ServerResponse, record: VisionRecordedRequest | undefined, status: number, text: string, headers: Record<string, string> = { 'content-type': 'text/html' }): void {
  if (record !== undefined) record.status = status;
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { 'content-length': Buffer.byteLength(text), 'apim-request-id': randomUUID(), ...headers });
  res.end(text);
}


