/** Maps whatever a model call threw to our error kinds, so the pipeline knows whether a redelivery can help. */
import { APIConnectionError, APIConnectionTimeoutError, APIUserAbortError } from 'openai';

import { isPermanentError, isTransientError, PermanentError, TransientError } from '../errors';
import { filteredCategories } from './filteredCategories';

const TOO_MANY_REQUESTS = 429;
const BAD_REQUEST = 400;
const UNAUTHORIZED = 401;
const FORBIDDEN = 403;
const NOT_FOUND = 404;
const REQUEST_TIMEOUT = 408;
const CONFLICT = 409;
const INTERNAL_SERVER_ERROR = 500;

/** What to do about a 401/403; also logged by CircuitBreakingClassifier and shown by the health check. */
export const AUTH_FIX =
  "Fix: assign the 'Cognitive Services OpenAI User' role on the Azure OpenAI resource ('Cognitive Services User' on the AI Services resource of FOUNDRY_ENDPOINT) to the app's identity (role assignments take up to ~10 min to propagate), or check AZURE_OPENAI_API_KEY / OPENAI_API_KEY / FOUNDRY_API_KEY if you configured a key.";
/** What to do about a 404. */
export const DEPLOYMENT_FIX =
  'Fix: the deployment named by AZURE_OPENAI_DEPLOYMENT does not exist on AZURE_OPENAI_ENDPOINT (or OPENAI_MODEL on OPENAI_BASE_URL, FOUNDRY_MODEL on FOUNDRY_ENDPOINT); check the name and the endpoint (a new deployment can take a few minutes to appear).';

const IMAGE_PROBLEM =
  /\b(?:invalid|unsupported|corrupt(?:ed)?|malformed|unrecognized|not a valid|not represent a valid)\s+image\b|\b(?:could not|cannot|unable to|failed to)\s+(?:process|decode|read|parse|load)\s+(?:the\s+)?image\b/i;

/**
 * - 429 → transient `model_throttled`, with the server's `retry-after-ms` / `retry-after` wait. The SDK has
 *   already retried, honouring those headers; this is what is left after its retries.
 * - 5xx, 408, 409, connection faults → transient `model_unavailable`; timeouts → transient `model_timeout`.
 * - The caller's AbortSignal (APIUserAbortError) → transient `model_timeout`: the caller gave up (deadline,
 *   shutdown), which says nothing about the image, so it must not end `rejected`.
 * - 401/403 → transient `model_auth`, 404 → transient `model_deployment_not_found`, each with `details.fix`
 *   naming the setting or role to fix: a new role assignment or deployment takes minutes to propagate, so a
 *   redelivery can succeed once it has; CircuitBreakingClassifier stops calling the model while they repeat.
 * - 400 `content_filter` → permanent `content_filtered`, details.categories = the filtered categories.
 * - 400 about the image (invalid / unsupported / undecodable) → permanent `invalid_image`.
 * - Other 400 and other 4xx → permanent `model_bad_request`.
 * - Anything else (token acquisition by the credential, unknown faults) → transient `model_unavailable`.
 * Our own errors pass through unchanged.
 */
export function mapModelError(e: unknown): TransientError | PermanentError {
  if (isTransientError(e) || isPermanentError(e)) return e;

  if (isOpenAIError(e, APIUserAbortError)) {
    return new TransientError('model_timeout', 'The model call was aborted by the caller.', { cause: e, details: { aborted: true } });
  }
  if (isOpenAIError(e, APIConnectionTimeoutError)) {
    return new TransientError('model_timeout', 'The model call timed out.', { cause: e });
  }
  if (isOpenAIError(e, APIConnectionError)) {
    return new TransientError('model_unavailable', `Could not reach the model endpoint: ${errorMessage(e)}`, { cause: e });
  }

  const status = statusOf(e);
  if (status === undefined) {
    return new TransientError('model_unavailable', `The model call failed: ${errorMessage(e)}`, { cause: e });
  }
  const body = bodyOf(e);
  const retryAfterMs = retryAfterMsOf(e);
  const retry = retryAfterMs === undefined ? {} : { retryAfterMs };
  const details = { status, ...(body.code === undefined ? {} : { code: body.code }) };

  if (status === TOO_MANY_REQUESTS) {
    return new TransientError('model_throttled', `The model endpoint is throttling requests: ${errorMessage(e)}`, { cause: e, details, ...retry });
  }
  if (status >= INTERNAL_SERVER_ERROR || status === REQUEST_TIMEOUT || status === CONFLICT) {
    return new TransientError('model_unavailable', `The model endpoint failed: ${errorMessage(e)}`, { cause: e, details, ...retry });
  }
  if (status === UNAUTHORIZED || status === FORBIDDEN) {
    return new TransientError('model_auth', `The model endpoint refused the caller (${status}). ${AUTH_FIX} ${errorMessage(e)}`, {
      cause: e,
      details: { ...details, fix: AUTH_FIX },
    });
  }
  if (status === NOT_FOUND) {
    return new TransientError('model_deployment_not_found', `The model endpoint has no such deployment or model (404). ${DEPLOYMENT_FIX} ${errorMessage(e)}`, {
      cause: e,
      details: { ...details, fix: DEPLOYMENT_FIX },
    });
  }
  if (status === BAD_REQUEST) {
    if (body.code === 'content_filter' || body.inner?.['code'] === 'ResponsibleAIPolicyViolation') {
      return new PermanentError('content_filtered', 'The content filter blocked the image or prompt.', {
        cause: e,
        details: { ...details, source: 'prompt', categories: contentFilterCategories(body) },
      });
    }
    if ((body.code !== undefined && /image/i.test(body.code)) || IMAGE_PROBLEM.test(body.message ?? '')) {
      return new PermanentError('invalid_image', `The model endpoint could not use the image: ${errorMessage(e)}`, { cause: e, details });
    }
  }
  return new PermanentError('model_bad_request', `The model endpoint rejected the request: ${errorMessage(e)}`, { cause: e, details });
}

// openai's errors keep the generic name 'Error', so copies of the class from a duplicate package are
// recognised by their constructor's name (style #5).
function isOpenAIError(e: unknown, cls: abstract new (...args: never[]) => Error): boolean {
  return e instanceof cls || (e instanceof Error && (e.name === cls.name || e.constructor.name === cls.name));
}

function statusOf(e: unknown): number | undefined {
  return isRecord(e) && typeof e['status'] === 'number' ? e['status'] : undefined;
}

interface ErrorBody {
  code: string | undefined;
  message: string | undefined;
  inner: Record<string, unknown> | undefined;
}

/** APIError keeps the response's `error` object in `.error`. */
function bodyOf(e: unknown): ErrorBody {
  const error = isRecord(e) && isRecord(e['error']) ? e['error'] : {};
  const inner = error['innererror'] ?? error['inner_error'];
  return {
    code: typeof error['code'] === 'string' ? error['code'] : undefined,
    message: typeof error['message'] === 'string' ? error['message'] : undefined,
    inner: isRecord(inner) ? inner : undefined,
  };
}

// The service sends `innererror.content_filter_result`; the 2024-10-21 spec names it `content_filter_results`.
function contentFilterCategories(body: ErrorBody): string[] {
  return filteredCategories(body.inner?.['content_filter_result'] ?? body.inner?.['content_filter_results']) ?? [];
}

function retryAfterMsOf(e: unknown): number | undefined {
  const headers = isRecord(e) ? e['headers'] : undefined;
  if (!isRecord(headers) || typeof headers['get'] !== 'function') return undefined;
  const get = (name: string): string | null => (headers as unknown as Headers).get(name);
  const ms = Number.parseFloat(get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const after = get('retry-after');
  if (after === null) return undefined;
  const seconds = Number.parseFloat(after);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
