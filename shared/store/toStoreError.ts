/** Maps a failed Cosmos DB call to our error kinds: what retrying can fix becomes TransientError, the rest is rethrown. */
import { StatusCodes } from '@azure/cosmos';

import { TransientError } from '../errors';
import { cosmosStatus } from './isCosmosError';

const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([
  StatusCodes.RequestTimeout,
  StatusCodes.TooManyRequests,
  StatusCodes.RetryWith,
  StatusCodes.Gone,
]);

// Transport failures carry a string code: node's errno names, the SDK's own timeout, core-rest-pipeline's send error.
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'TimeoutError',
  'REQUEST_SEND_ERROR',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

/**
 * `TransientError('store_unavailable')` for throttling (429, after the SDK's own retries), timeouts (408), 449, 410,
 * any 5xx and transport faults; `e` itself for everything else (400, 401, 403, 404, 409, 412...), which the caller
 * decides on. `action` says what was being done, for the message.
 */
export function toStoreError(e: unknown, action: string): unknown {
  const status = cosmosStatus(e);
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  const transient =
    status !== undefined ? TRANSIENT_STATUSES.has(status) || status >= StatusCodes.InternalServerError : typeof code === 'string' && TRANSIENT_CODES.has(code);
  if (!transient) return e;
  const retryAfter = e instanceof Error ? (e as { retryAfterInMs?: unknown }).retryAfterInMs : undefined;
  const detail = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new TransientError('store_unavailable', `Cosmos DB could not ${action}: ${detail}`, {
    cause: e,
    ...(typeof retryAfter === 'number' && retryAfter > 0 ? { retryAfterMs: retryAfter } : {}),
  });
}
