/** What every HTTP handler receives besides the request: route parameters and a logger. */
import type { Logger } from '../logging';

export interface HttpContext {
  /** Route parameters, e.g. `{ id }` for `images/{id}`. */
  params: Readonly<Record<string, string | undefined>>;
  log: Logger;
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
}
