/** Maps Azure Functions types to the plain shapes shared/ uses (Web Request/Response, Logger). Trigger shape only. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import type { HttpContext } from '../../shared/http';
import type { Logger } from '../../shared/logging';

export function toLogger(context: InvocationContext): Logger {
  return {
    info: (message, props) => context.log(message, ...(props === undefined ? [] : [props])),
    warn: (message, props) => context.warn(message, ...(props === undefined ? [] : [props])),
    error: (message, props) => context.error(message, ...(props === undefined ? [] : [props])),
  };
}

/** A Web Request over the Functions request; the body stays a stream so size limits apply while reading. */
export function toWebRequest(req: HttpRequest): Request {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.body !== null;
  const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers: Object.fromEntries(req.headers.entries()) };
  if (hasBody) {
    init.body = req.body;
    init.duplex = 'half';
  }
  return new Request(req.url, init);
}

export function toHttpContext(req: HttpRequest, context: InvocationContext): HttpContext {
  return { params: req.params, log: toLogger(context) };
}

export async function toResponseInit(res: Response): Promise<HttpResponseInit> {
  const body = res.body === null ? undefined : new Uint8Array(await res.arrayBuffer());
  return { status: res.status, headers: Object.fromEntries(res.headers.entries()), ...(body === undefined ? {} : { body }) };
}
