/**
 * The dev host as a client sees it: routes and precedence, function keys, 405s, streaming bodies, and the Event
 * Grid webhook of the Functions host; then the app's own function table served over real emulators.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { DevHost } from '../../scripts/dev/devHost';
import { startDevHost } from '../../scripts/dev/devHost';
import { json } from '../../shared/http';
import type { BlobOutcome } from '../../shared/pipeline';
import type { FunctionDefinition, HttpFunctionDefinition, Services } from '../../shared/runtime';
import { createServices } from '../../shared/runtime';
import { createCosmosContainer } from '../../shared/store';
import { createTestContainer, testConfig, uniqueName } from '../support/emulators';

const KEY = 'dev-host-test-key';

function echo(name: string, route: string, extra: Partial<HttpFunctionDefinition> = {}): HttpFunctionDefinition {
  return {
    name,
    trigger: 'http',
    methods: ['GET'],
    route,
    authLevel: 'anonymous',
    handler: (req, ctx) => Promise.resolve(json({ name, params: ctx.params, method: req.method })),
    ...extra,
  };
}

const received: unknown[] = [];
/** Events with `data.slow` wait a tick while counted as in flight, to see how many run at once. */
const gate = { inFlight: 0, peak: 0 };
const TABLE: FunctionDefinition[] = [
  echo('web', '{*path}'),
  echo('list', 'api/items', { authLevel: 'function' }),
  echo('get', 'api/items/{id}', { authLevel: 'function', methods: ['GET', 'PUT'] }),
  echo('special', 'api/items/special'),
  echo('things', 'api/things/{kind?}'),
  echo('number', 'api/n/{n:int}'),
  echo('word', 'api/n/{w}'),
  echo('admin', 'api/admin', { authLevel: 'admin' }),
  echo('boom', 'api/boom', { handler: () => Promise.reject(new Error('kaboom with a secret detail')) }),
  echo('echoBody', 'api/echo', {
    methods: ['POST'],
    // Answers with the request body as a stream: nothing is buffered on either side.
    handler: (req) => Promise.resolve(new Response(req.body, { status: 200, headers: { 'content-type': 'application/octet-stream' } })),
  }),
  {
    name: 'onBlob',
    trigger: 'eventGrid',
    handler: async (event): Promise<BlobOutcome> => {
      received.push(event);
      const data = (event as { data?: { fail?: boolean; slow?: boolean } }).data;
      if (data?.fail === true) throw new Error('transient trouble');
      if (data?.slow === true) {
        gate.peak = Math.max(gate.peak, ++gate.inFlight);
        await new Promise((r) => setTimeout(r, 5));
        gate.inFlight--;
      }
      return { outcome: 'ignored', reason: 'test' };
    },
  },
];

let host: DevHost;
const logLines: string[] = [];

beforeAll(async () => {
  host = await startDevHost({ services: {} as Services, functionKey: KEY, functions: TABLE, port: 0, log: (l) => logLines.push(l) });
});
afterAll(async () => {
  await host?.close();
});

function hostPort(): number {
  return host.port;
}

/** A request with headers fetch will not let us set (Host). */
function rawRequest(path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: host.port, path, method, headers: { 'aeg-event-type': 'Notification', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '[]' : undefined);
  });
}

async function get(path: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${host.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), headers: res.headers };
}

describe('routing', () => {
  it('listens on loopback only', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('prefers a literal route over a parameter, and the catch-all comes last', async () => {
    expect((await get('/api/items/special')).body).toMatchObject({ name: 'special' });
    expect((await get('/API/Items/Special/')).body).toMatchObject({ name: 'special' });
    expect((await get('/api/items/42', { headers: { 'x-functions-key': KEY } })).body).toMatchObject({ name: 'get', params: { id: '42' } });
    expect((await get('/some/deep/page.html')).body).toMatchObject({ name: 'web', params: { path: 'some/deep/page.html' } });
    const root = await get('/');
    expect(root.body).toMatchObject({ name: 'web' });
    expect(root.body['params']).toEqual({});
  });

  it('keeps a path that looks like a URL on this host', async () => {
    expect((await get('//other.example/x.html')).body).toMatchObject({ name: 'web', params: { path: 'other.example/x.html' } });
  });

  it('binds optional, constrained and encoded parameters', async () => {
    expect((await get('/api/things')).body).toMatchObject({ name: 'things', params: {} });
    expect((await get('/api/things/cats')).body).toMatchObject({ name: 'things', params: { kind: 'cats' } });
    expect((await get('/api/n/7')).body).toMatchObject({ name: 'number', params: { n: '7' } });
    expect((await get('/api/n/seven')).body).toMatchObject({ name: 'word', params: { w: 'seven' } });
    expect((await get('/api/items/a%20b', { headers: { 'x-functions-key': KEY } })).body).toMatchObject({ params: { id: 'a b' } });
  });

  it('answers a method the path does not accept with 405 problem JSON naming the allowed ones', async () => {
    const r = await get('/api/items', { method: 'DELETE', headers: { 'x-functions-key': KEY } });
    expect(r.status).toBe(405);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.headers.get('allow')).toBe('GET');
    expect(r.body).toMatchObject({ status: 405, code: 'method_not_allowed' });
    // Every route matching the path counts: {id} takes GET and PUT, the catch-all GET.
    expect((await get('/api/items/special', { method: 'POST' })).headers.get('allow')).toBe('GET, PUT');
  });

  it('refuses a Host header that is not a loopback name (DNS rebinding), on every path including the webhook', async () => {
    for (const path of ['/api/things', `/runtime/webhooks/EventGrid?functionName=onBlob&code=${KEY}`]) {
      const r = await rawRequest(path, { host: 'attacker.example' }, path.includes('webhooks') ? 'POST' : 'GET');
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toMatchObject({ code: 'invalid_host' });
    }
    for (const host of ['localhost', '127.0.0.1', `127.0.0.1:${hostPort()}`, `localhost:${hostPort()}`, `[::1]:${hostPort()}`]) {
      expect((await rawRequest('/api/things', { host })).status).toBe(200);
    }
  });

  it('answers a malformed percent-encoding in the path with 400, not 500', async () => {
    for (const path of ['/api/items/%E0%A4%A', '/api/items/%zz', '/admin/functions/%ff', '/some/%']) {
      const r = await get(path, { headers: { 'x-functions-key': KEY }, method: path.startsWith('/admin') ? 'POST' : 'GET' });
      expect(r.status, path).toBe(400);
      expect(r.body).toMatchObject({ code: 'invalid_path' });
    }
  });

  it('turns a handler that throws into a 500 problem without its details', async () => {
    const r = await get('/api/boom');
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ code: 'internal' });
    expect(JSON.stringify(r.body)).not.toContain('secret');
  });

  it('streams request and response bodies through unchanged', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const res = await fetch(`${host.url}/api/echo`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(200);
    const back = Buffer.from(await res.arrayBuffer());
    expect(back.length).toBe(bytes.length);
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('logs requests without the key from the query', async () => {
    await get(`/api/items?code=${KEY}`);
    expect(logLines.some((l) => l.startsWith('GET /api/items 200'))).toBe(true);
    expect(logLines.join('\n')).not.toContain(KEY);
  });
});

describe('function keys', () => {
  it('refuses a function-level route without the key, or with a wrong one, with 401 problem JSON', async () => {
    for (const init of [{}, { headers: { 'x-functions-key': 'wrong' } }, { headers: { 'x-functions-key': '' } }]) {
      const r = await get('/api/items', init);
      expect(r.status).toBe(401);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(r.body).toMatchObject({ status: 401, code: 'unauthorized' });
    }
    expect((await get('/api/items?code=wrong')).status).toBe(401);
    expect((await get(`/api/items?code=${KEY}x`)).status).toBe(401);
  });

  it('accepts the key in the x-functions-key header or the code query parameter', async () => {
    expect((await get('/api/items', { headers: { 'x-functions-key': KEY } })).body).toMatchObject({ name: 'list' });
    expect((await get(`/api/items?code=${encodeURIComponent(KEY)}`)).body).toMatchObject({ name: 'list' });
  });

  it('requires it for admin-level routes too, and not for anonymous ones', async () => {
    expect((await get('/api/admin')).status).toBe(401);
    expect((await get('/api/admin', { headers: { 'x-functions-key': KEY } })).status).toBe(200);
    expect((await get('/api/things')).status).toBe(200);
  });
});

describe('Event Grid webhook', () => {
  const hook = (fn: string): string => `/runtime/webhooks/EventGrid?functionName=${fn}`;
  const post = (fn: string, body: unknown, eventType?: string, key: Record<string, string> = { 'x-functions-key': KEY }): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> =>
    get(hook(fn), { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...key, ...(eventType === undefined ? {} : { 'aeg-event-type': eventType }) } });

  it('answers the subscription validation handshake with the code', async () => {
    const r = await post('onBlob', [{ id: '1', eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent', data: { validationCode: 'abc-123' } }], 'SubscriptionValidation');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ validationResponse: 'abc-123' });
  });

  it('runs the function once per event of a Notification and answers 202 when all succeed', async () => {
    received.length = 0;
    const r = await post('onBlob', [{ id: 'a', data: {} }, { id: 'b', data: {} }], 'Notification');
    expect(r.status).toBe(202);
    expect(received.map((e) => (e as { id: string }).id).sort()).toEqual(['a', 'b']);
    // One event on its own (not in an array) is accepted too, and the function name is not case-sensitive.
    expect((await post('ONBLOB', { id: 'c', data: {} }, 'Notification')).status).toBe(202);
    expect(received).toHaveLength(3);
  });

  it('answers 500 when one event fails, so Event Grid delivers again', async () => {
    received.length = 0;
    const r = await post('onBlob', [{ id: 'ok', data: {} }, { id: 'bad', data: { fail: true } }], 'Notification');
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ code: 'function_failed' });
    expect(received).toHaveLength(2);
  });

  it('needs the host key, as the real host does, for deliveries and for the validation handshake', async () => {
    received.length = 0;
    for (const key of [{}, { 'x-functions-key': 'wrong' }]) {
      const r = await post('onBlob', [{ id: 'k', data: {} }], 'Notification', key);
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ code: 'unauthorized' });
      expect((await post('onBlob', [{ id: 'v', data: { validationCode: 'stolen' } }], 'SubscriptionValidation', key)).status).toBe(401);
    }
    expect(received).toHaveLength(0);
    // The key as the code query parameter, as an Event Grid subscription URL carries it.
    const r = await get(`${hook('onBlob')}&code=${encodeURIComponent(KEY)}`, { method: 'POST', body: JSON.stringify([{ id: 'q', data: {} }]), headers: { 'aeg-event-type': 'Notification' } });
    expect(r.status).toBe(202);
    expect(received).toHaveLength(1);
  });

  it('runs the events of one batch a few at a time, not all at once', async () => {
    received.length = 0;
    gate.inFlight = 0;
    gate.peak = 0;
    const batch = Array.from({ length: 24 }, (_, i) => ({ id: `slow-${i}`, data: { slow: true } }));
    const r = await post('onBlob', batch, 'Notification');
    expect(r.status).toBe(202);
    expect(received).toHaveLength(24);
    expect(gate.peak).toBeGreaterThan(1);
    expect(gate.peak).toBeLessThanOrEqual(4);
  });

  it('refuses unknown functions, HTTP functions, a missing event type and other methods', async () => {
    expect((await post('nope', [], 'Notification')).status).toBe(404);
    expect((await post('list', [], 'Notification')).status).toBe(404);
    expect((await post('onBlob', [{ id: 'x', data: {} }])).status).toBe(400);
    const bad = await get(hook('onBlob'), { method: 'POST', body: '{not json', headers: { 'aeg-event-type': 'Notification', 'x-functions-key': KEY } });
    expect(bad.status).toBe(400);
    expect((await get(hook('onBlob'), { headers: { 'x-functions-key': KEY } })).status).toBe(405);
  });
});

describe('the app function table on the emulators', () => {
  let app: DevHost;
  let cleanup: () => Promise<void>;
  const appLog: string[] = [];

  beforeAll(async () => {
    const images = await createTestContainer('devhost-images');
    const config = testConfig({ IMAGES_CONTAINER: images.value.containerName, COSMOS_DATABASE: uniqueName('devhost') });
    const services = await createServices(config, { classifier: { info: { provider: 'test', deployment: 'none', apiVersion: null }, supportedKinds: [], classify: () => Promise.reject(new Error('not used')) } });
    app = await startDevHost({ services, functionKey: KEY, port: 0, log: (l) => appLog.push(l) });
    cleanup = async () => {
      await app.close();
      await images.cleanup();
      const c = await createCosmosContainer({ ...config.cosmos, createIfMissing: false });
      await c.database.delete().catch(() => undefined);
    };
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('serves the page, the anonymous health check, and keyed API routes at their Azure routes', async () => {
    const page = await fetch(`${app.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    await page.body?.cancel();

    const health = await fetch(`${app.url}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });

    expect((await fetch(`${app.url}/api/profiles`)).status).toBe(401);
    const profiles = await fetch(`${app.url}/api/profiles`, { headers: { 'x-functions-key': KEY } });
    expect(profiles.status).toBe(200);
    expect(JSON.stringify(await profiles.json())).toContain('pets');

    const missing = await fetch(`${app.url}/api/images/${'0'.repeat(32)}?code=${KEY}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    await missing.body?.cancel();

    // An /api path that no function serves reaches the page's catch-all, which refuses it rather than serving HTML.
    const unknown = await fetch(`${app.url}/api/nothing-here`);
    expect(unknown.status).toBe(404);
    await unknown.body?.cancel();
  });

  it('does not log a client that hangs up in the middle of an upload as a server error', async () => {
    appLog.length = 0;
    await new Promise<void>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: app.port, path: '/api/uploads?name=a.jpg', method: 'POST', headers: { 'content-type': 'image/jpeg', 'x-functions-key': KEY, 'transfer-encoding': 'chunked' } });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.write(Buffer.alloc(64 * 1024, 0xff));
      setTimeout(() => req.destroy(), 100);
    });
    for (let i = 0; i < 100 && !appLog.some((l) => l.startsWith('POST /api/uploads')); i++) await new Promise((r) => setTimeout(r, 20));
    expect(appLog.some((l) => l.startsWith('POST /api/uploads'))).toBe(true);
    expect(appLog.filter((l) => / error: /.test(l) || / 500 /.test(l))).toEqual([]);
    expect(appLog.some((l) => l.includes('client went away'))).toBe(true);
  });

  it('answers a wrong method on an API path with 405 and the methods it has, through the page catch-all as in Azure', async () => {
    for (const [method, path, allow] of [
      ['GET', '/api/classify', 'POST'],
      ['POST', '/api/images', 'GET'],
      ['PUT', `/api/images/${'0'.repeat(32)}`, 'DELETE, GET'],
      ['GET', `/api/images/${'0'.repeat(32)}/review`, 'PATCH'],
      ['POST', '/index.html', 'GET'],
    ] as const) {
      const r = await fetch(`${app.url}${path}`, { method, headers: { 'x-functions-key': KEY } });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.get('allow')).toBe(allow);
      expect(((await r.json()) as { detail: string }).detail).toContain(`accepts ${allow}`);
    }
  });

  it('marks API answers nosniff and no-store, and the page with a Referrer-Policy', async () => {
    for (const path of ['/api/profiles', `/api/images/${'0'.repeat(32)}`, '/api/images?limit=x', '/api/health']) {
      const r = await fetch(`${app.url}${path}`, { headers: { 'x-functions-key': KEY } });
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(r.headers.get('cache-control'), path).toBe('no-store');
      await r.body?.cancel();
    }
    const page = await fetch(`${app.url}/`);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    await page.body?.cancel();
  });
});
