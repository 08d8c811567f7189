/** GET / and its assets: the small web page served by the app itself (no data in it; it calls the API). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import type { AuthSettings } from '../auth';
import { LOGIN_PATH, readPrincipal } from '../auth';
import type { RouteMethods } from './allowedMethods';
import { allowedMethods } from './allowedMethods';
import type { HttpContext } from './HttpContext';
import { errorToResponse, HttpProblem } from './problem';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  ico: 'image/x-icon',
};

/** Only these names are served: a fixed list cannot be tricked into reading another file. */
const ASSET = /^[a-z0-9-]+\.(html|js|css|svg|ico)$/;

/** `shared/web/public` from the package root, found from here in both the sources and `dist/`. */
export function webRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'shared', 'web', 'public');
    if (dirname(dir) === dir) throw new Error(`package.json not found above ${from}`);
  }
}

const cache = new Map<string, Buffer>();

export interface WebHttpDeps {
  /** The API's routes: a path one of them serves, asked with another method, is a 405 naming the methods it has. */
  apiRoutes: readonly RouteMethods[];
  /** Absent: no sign-in (the page asks for a function key). */
  auth?: AuthSettings;
}

/** Methods the page answers itself. */
const PAGE_METHODS = ['GET'];

/**
 * The catch-all route takes every method, so that a wrong method on an API path (which the host would otherwise send
 * here as a 404, or refuse itself) is answered 405 with the methods that path has, in Azure as on the dev host.
 */
export async function webHttp(req: Request, ctx: HttpContext, deps: WebHttpDeps = { apiRoutes: [] }): Promise<Response> {
  try {
    await req.body?.cancel().catch(() => undefined);
    const url = new URL(req.url);
    const path = (ctx.params['path'] ?? url.pathname.replace(/^\/+/, '')).replace(/\/+$/, '');
    if (/^(app\/)?api(\/|$)/.test(path)) {
      const allowed = allowedMethods(deps.apiRoutes, path);
      if (allowed.length > 0) throw methodNotAllowed(path, req.method, allowed);
      throw new HttpProblem(404, 'not_found', `No API route ${req.method} /${path}.`);
    }
    if (!PAGE_METHODS.includes(req.method)) throw methodNotAllowed(path, req.method, PAGE_METHODS);
    const name = path === '' ? 'index.html' : path;
    if (!ASSET.test(name)) throw new HttpProblem(404, 'not_found', `No page at /${path}.`);
    // App Service lets unauthenticated requests through (machine callers carry function keys, which only the Functions
    // host checks), so the page itself sends a browser that is not signed in to sign in. Scripts and styles hold no data.
    if (name === 'index.html' && deps.auth !== undefined && readPrincipal(req.headers, deps.auth).kind === 'anonymous') {
      const back = `${url.pathname}${url.search}`;
      return new Response(null, { status: 302, headers: { location: `${LOGIN_PATH}?post_login_redirect_uri=${encodeURIComponent(back)}`, 'cache-control': 'no-store' } });
    }
    let bytes = cache.get(name);
    if (bytes === undefined) {
      const file = join(webRoot(), name);
      if (!existsSync(file)) throw new HttpProblem(404, 'not_found', `No page at /${path}.`);
      bytes = readFileSync(file);
      cache.set(name, bytes);
    }
    const ext = name.split('.').pop() ?? '';
    return new Response(new Uint8Array(bytes), {
        status: 200,
        headers: {
          'content-type': TYPES[ext] ?? 'application/octet-stream',
          'cache-control': 'no-cache',
          'x-content-type-options': 'nosniff',
          // The page's URLs (and a key typed into a query string) never leave in a Referer header.
          'referrer-policy': 'no-referrer',
          // The page loads nothing from elsewhere; images come from the API as blobs/object URLs.
          'content-security-policy': "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
        },
      });
  } catch (e) {
    return errorToResponse(e, ctx.log);
  }
}

function methodNotAllowed(path: string, method: string, allowed: readonly string[]): HttpProblem {
  return new HttpProblem(405, 'method_not_allowed', `/${path} accepts ${allowed.join(', ')}, not ${method}.`, { allow: allowed.join(', ') });
}
