/** What every HTTP handler receives besides the request: route parameters and a logger. */
import type { Logger } from '../logging';

export interface HttpContext {
  /** Route parameters, e.g. `{ id }` for `images/{id}`. */
  params: Readonly<Record<string, string | undefined>>;
  log: Logger;
}

/**
 * Headers on every API answer: results are per caller and change (reviews, reprocessing), so no cache keeps them, and
 * browsers take the declared type as is.
 */
export const API_HEADERS: Readonly<Record<string, string>> = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...API_HEADERS, ...headers } });
}
