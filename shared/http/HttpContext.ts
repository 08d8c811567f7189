/** What every HTTP handler receives besides the request: route parameters and a logger. */
import type { Caller } from '../auth/caller';
import type { Logger } from '../logging';

export interface HttpContext {
  /** Route parameters, e.g. `{ id }` for `images/{id}`. */
  params: Readonly<Record<string, string | undefined>>;
  log: Logger;
  /**
   * Set by the signed-in routes once the user and role are checked. Unset on the key routes: there the Functions
   * host checked the function key before the handler ran, so the caller is a key holder.
   */
  caller?: Caller;
}

/**
 * Headers on every API answer: results are per caller and change (reviews, reprocessing), so no cache keeps them, and
 * browsers take the declared type as is.
 */
export const API_HEADERS: Readonly<Record<string, string>> = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...API_HEADERS, ...headers } });
}
