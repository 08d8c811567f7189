/**
 * The local Functions host: serves every HTTP function of the shared table at its Azure route, checks function keys
 * like the host, and takes Event Grid deliveries on `/runtime/webhooks/EventGrid` as `func start` does.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { errorToResponse, json, problemResponse } from '../../shared/http';
import type { Logger } from '../../shared/logging';
import type { EventGridFunctionDefinition, FunctionDefinition, HttpFunctionDefinition, Services } from '../../shared/runtime';
import { FUNCTIONS } from '../../shared/runtime';
import { DevSignIn } from './DevSignIn';
import { readNodeBody, sendWebResponse, toWebRequest } from './nodeHttpBridge';
import type { CompiledRoute } from './routeTemplate';
import { compareRoutes, compileRoute, matchRoute } from './routeTemplate';
import { settleWithConcurrency } from './settleWithConcurrency';

export interface DevHostOptions {
  services: Services;
  /** Required (header `x-functions-key` or query `code`) by functions whose authLevel is 'function' or 'admin'. */
  functionKey: string;
  /** The function table; default the app's FUNCTIONS. Tests pass their own. */
  functions?: readonly FunctionDefinition[];
  /** Default 127.0.0.1: the dev host has one key for everything and must not be reachable from the network. */
  host?: string;
  /** Events of one webhook delivery run at most this many at once. Default 4. */
  webhookConcurrency?: number;
  /** Default 7071 (as `func start`); 0 picks a free port. */
  port?: number;
  /** One line per request and per function log entry. */
  log?: (line: string) => void;
  /**
   * Starts a non-HTTP function now, for `POST /admin/functions/<name>` (the host's admin endpoint, key required);
   * undefined when no such function can be run.
   */
  runFunction?: (name: string) => Promise<void> | undefined;
  /**
   * Stand in for App Service authentication: `/.auth/login/dev` signs a person in with chosen app roles and requests
   * carry `x-ms-client-principal` as App Service sets it (client-sent ones stripped). Needs the services built with
   * WEBSITE_AUTH_ENABLED=True, and the other way round: the app must never trust the header without it.
   */
  signIn?: boolean;
}

export interface DevHost {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  port: number;
  /** Stops accepting, lets requests in flight finish (bounded), then closes every connection. */
  close(): Promise<void>;
}

/** Path of the Event Grid extension's webhook in the Functions host (matched case-insensitively there too). */
export const EVENT_GRID_WEBHOOK_PATH = '/runtime/webhooks/EventGrid';

const ADMIN_FUNCTION = /^\/admin\/functions\/([^/]+)\/?$/i;

/** Event Grid sends at most 1 MB per event and per batch; a little headroom for a hand-made request. */
const MAX_WEBHOOK_BYTES = 4 * 1024 * 1024;
const CLOSE_GRACE_MS = 5_000;

interface Route {
  def: HttpFunctionDefinition;
  compiled: CompiledRoute;
}

/** Starts the host; rejects if the port is taken or a route template is invalid. */
export async function startDevHost(options: DevHostOptions): Promise<DevHost> {
  const functions: readonly FunctionDefinition[] = options.functions ?? FUNCTIONS;
  const log = options.log ?? (() => undefined);
  const routes: Route[] = functions
    .filter((f): f is HttpFunctionDefinition => f.trigger === 'http')
    .map((def) => ({ def, compiled: compileRoute(def.route) }))
    .sort((a, b) => compareRoutes(a.compiled, b.compiled));
  const eventGrid = new Map(functions.filter((f): f is EventGridFunctionDefinition => f.trigger === 'eventGrid').map((f) => [f.name.toLowerCase(), f]));
  const keyDigest = digest(options.functionKey);
  const platformAuth = (options.services as Partial<Services>).config?.auth.platformAuthEnabled === true;
  if (platformAuth !== (options.signIn === true)) {
    throw new Error(
      platformAuth
        ? 'WEBSITE_AUTH_ENABLED is on but the dev host has no sign-in: any client could send x-ms-client-principal. Start the dev host with signIn: true, or unset WEBSITE_AUTH_ENABLED.'
        : 'The dev host sign-in needs the services built with WEBSITE_AUTH_ENABLED=True, as App Service sets it.',
    );
  }
  const signIn = options.signIn === true ? new DevSignIn() : undefined;

  const bindHost = options.host ?? '127.0.0.1';
  const webhookConcurrency = Math.max(1, options.webhookConcurrency ?? 4);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const method = (req.method ?? 'GET').toUpperCase();
    let url: URL;
    try {
      // Concatenated, not resolved: a path like `//other.host/x` must stay a path on this host.
      url = new URL(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`);
    } catch {
      req.resume();
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad request URL or Host header.');
      return;
    }
    // A page elsewhere that rebinds its DNS name to 127.0.0.1 reaches this port with its own Host header: refuse it.
    if (!isAllowedHost(url.hostname, bindHost)) {
      req.resume();
      await sendWebResponse(res, problemResponse(400, 'invalid_host', `Host ${JSON.stringify(url.host)} is not this machine: the dev host answers only to loopback names (127.0.0.1, localhost, [::1]).`));
      log(`${method} ${url.pathname} 400 (Host ${url.host} refused)`);
      return;
    }
    if (!decodablePath(url.pathname)) {
      req.resume();
      await sendWebResponse(res, problemResponse(400, 'invalid_path', 'The path has a malformed percent-encoding (a % not followed by two hex digits of UTF-8).'));
      log(`${method} ${url.pathname} 400 (bad percent-encoding)`);
      return;
    }
    const abort = new AbortController();
    // The client went away before the answer was complete: let the handler stop reading and waiting.
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    let name = '-';
    let response: Response;
    try {
      const admin = ADMIN_FUNCTION.exec(url.pathname);
      const auth = signIn === undefined ? undefined : await signIn.handle(method, url, new Headers({ cookie: headerValue(req, 'cookie') ?? '' }), (max) => readNodeBody(req, max));
      if (auth !== undefined) {
        name = 'auth';
        response = auth;
      } else if (admin !== null) {
        name = decodeURIComponent(admin[1] ?? '');
        response = adminRun(req, method, url, name, keyDigest, options.runFunction);
      } else if (url.pathname.replace(/\/+$/, '').toLowerCase() === EVENT_GRID_WEBHOOK_PATH.toLowerCase()) {
        name = url.searchParams.get('functionName') ?? '-';
        response = hasKey(req, url, keyDigest)
          ? await eventGridWebhook(req, method, url, eventGrid, options.services, log, webhookConcurrency)
          : webhookUnauthorized(req);
      } else {
        const found = pickRoute(routes, url.pathname, method);
        if (found.kind === 'none') {
          response = problemResponse(404, 'not_found', `No function serves ${method} ${url.pathname}.`);
        } else if (found.kind === 'method') {
          response = problemResponse(405, 'method_not_allowed', `${url.pathname} accepts ${found.allowed.join(', ')}, not ${method}.`, { allow: found.allowed.join(', ') });
        } else {
          name = found.route.def.name;
          response = authorized(found.route.def, req, url, keyDigest)
            ? await invoke(found.route.def, found.params, withPrincipal(toWebRequest(req, url, abort.signal), signIn), options.services, log)
            : problemResponse(401, 'unauthorized', 'This function needs the function key: send it in the x-functions-key header or the code query parameter.');
        }
      }
    } catch (e) {
      response = errorToResponse(e, functionLogger(name, log));
    }
    try {
      await sendWebResponse(res, response, method === 'HEAD');
    } catch {
      // The client disconnected while the body was streaming; nothing is left to tell it.
      res.destroy();
    }
    // Only the path: the query may hold the function key.
    log(`${method} ${url.pathname} ${response.status} ${Math.round(performance.now() - started)} ms${name === '-' ? '' : ` [${name}]`}`);
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 7071, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      })),
  };
}

type Picked = { kind: 'none' } | { kind: 'method'; allowed: string[] } | { kind: 'found'; route: Route; params: Record<string, string | undefined> };

/** The most specific route for the path that accepts the method; a path served only for other methods is a 405. */
function pickRoute(routes: readonly Route[], pathname: string, method: string): Picked {
  const allowed = new Set<string>();
  for (const route of routes) {
    const params = matchRoute(route.compiled, pathname);
    if (params === null) continue;
    if ((route.def.methods as readonly string[]).includes(method)) return { kind: 'found', route, params };
    for (const m of route.def.methods) allowed.add(m);
  }
  return allowed.size === 0 ? { kind: 'none' } : { kind: 'method', allowed: [...allowed].sort() };
}

/** `POST /admin/functions/<name>`: runs a timer function now, in the background, as Core Tools does (202). */
function adminRun(
  req: IncomingMessage,
  method: string,
  url: URL,
  name: string,
  keyDigest: Buffer,
  runFunction: DevHostOptions['runFunction'],
): Response {
  req.resume();
  if (method !== 'POST') return problemResponse(405, 'method_not_allowed', `/admin/functions/${name} accepts POST, not ${method}.`, { allow: 'POST' });
  if (!hasKey(req, url, keyDigest)) return problemResponse(401, 'unauthorized', 'The admin API needs the function key (x-functions-key header or code query parameter).');
  const run = runFunction?.(name);
  if (run === undefined) return problemResponse(404, 'not_found', `No timer function named ${name}.`);
  // The run reports its own outcome in the log; the caller is only told it started.
  void run.catch(() => undefined);
  return new Response(null, { status: 202 });
}

/** As the host: anonymous needs nothing; function and admin need the key (the dev host has one key for both). */
function authorized(def: HttpFunctionDefinition, req: IncomingMessage, url: URL, keyDigest: Buffer): boolean {
  if (def.authLevel === 'anonymous') return true;
  return hasKey(req, url, keyDigest);
}

/**
 * The host wants its `eventgrid_extension` system key (or the master key) on the webhook, as `code` or
 * x-functions-key; the dev host's one key plays both. Without it anyone on the machine could inject events or answer
 * the subscription handshake.
 */
function webhookUnauthorized(req: IncomingMessage): Response {
  req.resume();
  return problemResponse(401, 'unauthorized', `${EVENT_GRID_WEBHOOK_PATH} needs the host key (the dev host's function key): send it as the code query parameter or the x-functions-key header.`);
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function isAllowedHost(hostname: string, bindHost: string): boolean {
  const h = hostname.toLowerCase();
  return LOOPBACK_HOSTS.has(h) || h.endsWith('.localhost') || h === bindHost.toLowerCase();
}

function decodablePath(pathname: string): boolean {
  try {
    decodeURIComponent(pathname);
    return true;
  } catch {
    return false;
  }
}

function hasKey(req: IncomingMessage, url: URL, keyDigest: Buffer): boolean {
  const header = req.headers['x-functions-key'];
  const given = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('code') ?? undefined;
  // Compare digests: equal lengths for timingSafeEqual, and no early exit that tells how much of the key was right.
  return given !== undefined && given !== '' && timingSafeEqual(digest(given), keyDigest);
}

/** With sign-in on, the request as App Service passes it on: the session's principal, never the client's. */
function withPrincipal(request: Request, signIn: DevSignIn | undefined): Request {
  signIn?.applyPrincipal(request.headers);
  return request;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

async function invoke(def: HttpFunctionDefinition, params: Record<string, string | undefined>, request: Request, services: Services, log: (line: string) => void): Promise<Response> {
  const logger = functionLogger(def.name, log);
  try {
    return await def.handler(request, { params, log: logger }, services);
  } catch (e) {
    return errorToResponse(e, logger);
  }
}

/**
 * `POST /runtime/webhooks/EventGrid?functionName=<name>` as the Event Grid extension answers it: the validation
 * handshake, then Notification deliveries (an array of events, or one) run the function once per event, a few at a
 * time; 202 when every invocation succeeded, 500 when one threw, so Event Grid redelivers the batch.
 */
async function eventGridWebhook(
  req: IncomingMessage,
  method: string,
  url: URL,
  functions: ReadonlyMap<string, EventGridFunctionDefinition>,
  services: Services,
  log: (line: string) => void,
  concurrency: number,
): Promise<Response> {
  if (method !== 'POST') {
    req.resume();
    return problemResponse(405, 'method_not_allowed', `${EVENT_GRID_WEBHOOK_PATH} accepts POST, not ${method}.`, { allow: 'POST' });
  }
  const functionName = url.searchParams.get('functionName') ?? '';
  const def = functions.get(functionName.toLowerCase());
  if (def === undefined) {
    req.resume();
    const known = [...functions.values()].map((f) => f.name).join(', ') || '(none)';
    return problemResponse(404, 'not_found', `cannot find function: '${functionName}'. Event Grid functions: ${known}.`);
  }
  const eventType = (headerValue(req, 'aeg-event-type') ?? '').toLowerCase();
  const body = await readNodeBody(req, MAX_WEBHOOK_BYTES);
  if (body === null) return problemResponse(413, 'too_large', `The delivery is larger than the webhook's limit of ${MAX_WEBHOOK_BYTES} bytes (Event Grid sends at most 1 MB per batch).`, {}, { maxBytes: MAX_WEBHOOK_BYTES });
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString('utf8'));
  } catch {
    return problemResponse(400, 'bad_request', 'The body is not JSON: send an array of Event Grid events (or one event).');
  }

  if (eventType === 'subscriptionvalidation') {
    const code = validationCode(payload);
    if (code === undefined) return problemResponse(400, 'bad_request', 'A SubscriptionValidation delivery must carry data.validationCode.');
    log(`${def.name}: Event Grid subscription validated`);
    return json({ validationResponse: code });
  }
  if (eventType === 'unsubscribe') return new Response(null, { status: 202 });
  if (eventType !== 'notification') {
    return problemResponse(400, 'bad_request', 'Set the aeg-event-type header to Notification (or SubscriptionValidation), as Event Grid does.');
  }
  const events: unknown[] = Array.isArray(payload) ? payload : [payload];
  const logger = functionLogger(def.name, log);
  // A batch of up to 1 MB of events: run a few at a time, so one delivery cannot start hundreds of downloads at once.
  const results = await settleWithConcurrency(events, concurrency, async (event) => {
    const result = await def.handler(event, logger, services);
    log(`${def.name} ${describeEvent(event)}: ${result.outcome}`);
  });
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    const reason: unknown = failed.reason;
    const message = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
    log(`${def.name}: failed, Event Grid will retry (${message.split('\n')[0]})`);
    return problemResponse(500, 'function_failed', `Function ${def.name} failed: ${message.split('\n')[0]}`);
  }
  return new Response(null, { status: 202 });
}

function validationCode(payload: unknown): string | undefined {
  const first: unknown = Array.isArray(payload) ? payload[0] : payload;
  if (typeof first !== 'object' || first === null) return undefined;
  let data: unknown = (first as { data?: unknown }).data;
  // CloudEvents validation events may carry `data` as a JSON string.
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      return undefined;
    }
  }
  const code: unknown = typeof data === 'object' && data !== null ? (data as { validationCode?: unknown }).validationCode : undefined;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

function describeEvent(event: unknown): string {
  const subject = typeof event === 'object' && event !== null ? (event as { subject?: unknown }).subject : undefined;
  if (typeof subject !== 'string') return '(no subject)';
  return subject.replace(/^\/blobServices\/default\/containers\//, '').replace('/blobs/', '/');
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A Logger that writes `[name] message {props}` lines. */
export function functionLogger(name: string, log: (line: string) => void): Logger {
  const line = (level: string, message: string, props?: Record<string, unknown>): void =>
    log(`[${name}]${level === 'info' ? '' : ` ${level}:`} ${message}${props === undefined ? '' : ` ${JSON.stringify(props)}`}`);
  return {
    info: (m, p) => line('info', m, p),
    warn: (m, p) => line('warn', m, p),
    error: (m, p) => line('error', m, p),
  };
}
