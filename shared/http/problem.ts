/** RFC 9457 problem details: every error response, with a stable `code` and never a stack trace. */
import type { ErrorCode } from '../errors';
import { isConfigError, isPermanentError, isTransientError } from '../errors';
import type { Logger } from '../logging';
import { API_HEADERS } from './HttpContext';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** An error the HTTP layer turns into a problem response as is. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function problemResponse(status: number, code: string, detail: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}): Response {
  const body = { type: `urn:blobsight:error:${code}`, title: TITLES[status] ?? 'Error', status, detail, code, ...extra };
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...API_HEADERS, ...headers } });
}

/** HTTP status for each pipeline error code: bad input is 4xx, upstream trouble 5xx. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  empty_blob: 400,
  corrupt_image: 400,
  invalid_image: 400,
  unknown_profile: 400,
  too_large: 413,
  too_many_pixels: 413,
  unsupported_format: 415,
  content_filtered: 422,
  profile_not_supported: 422,
  model_invalid_output: 502,
  model_bad_request: 502,
  model_throttled: 503,
  model_unavailable: 503,
  model_auth: 503,
  model_deployment_not_found: 503,
  storage_unavailable: 503,
  store_unavailable: 503,
  model_timeout: 504,
};

/** Maps anything thrown by a handler to a response; unexpected errors are logged and answered without details. */
export function errorToResponse(e: unknown, log: Logger): Response {
  if (e instanceof HttpProblem) return problemResponse(e.status, e.code, e.detail, e.headers, e.extra);
  if (isConfigError(e)) {
    // Names the settings to fix; ConfigError never carries secret values (loadConfig redacts them).
    log.error('configuration error', { issues: e.issues });
    return problemResponse(503, 'configuration', 'The service is not configured correctly.', {}, { issues: e.issues });
  }
  if (isPermanentError(e) || isTransientError(e)) {
    const status = STATUS_BY_CODE[e.code] ?? (e.kind === 'transient' ? 503 : 400);
    const headers: Record<string, string> = {};
    if (e.kind === 'transient') headers['retry-after'] = String(Math.max(1, Math.ceil((e.retryAfterMs ?? 5000) / 1000)));
    const extra = e.details === undefined ? {} : { details: e.details };
    if (status >= 500) log.warn('request failed upstream', { code: e.code, status });
    return problemResponse(status, e.code, e.message, headers, extra);
  }
  if (isClientGone(e)) {
    // The caller hung up (closed the tab, timed out): nothing failed here, and nobody reads this answer.
    log.info('client went away before the answer', { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    return problemResponse(499, 'client_closed_request', 'The client closed the connection before the answer.');
  }
  log.error('unexpected error', { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  return problemResponse(500, 'internal', 'An unexpected error occurred; it has been logged.');
}

/** Errors a request body stream or an aborted request signal raises when the client disconnects. */
function isClientGone(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (e.name === 'AbortError' || code === 'ABORT_ERR' || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') return true;
  return e.message === 'aborted' || (e.cause !== undefined && e.cause !== e && isClientGone(e.cause));
}
