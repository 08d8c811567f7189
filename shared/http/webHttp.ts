/** GET / and its assets: the small web page served by the app itself (no data in it; it calls the API). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import type { AuthSettings } from '../auth';
import { LOGIN_PATH, readPrincipal } from '../auth';
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
  /** Absent: no sign-in (the page asks for a function key). */
  auth?: AuthSettings;
}

export function webHttp(req: Request, ctx: HttpContext, deps: WebHttpDeps = {}): Promise<Response> {
  try {
    const url = new URL(req.url);
    const path = (ctx.params['path'] ?? url.pathname.replace(/^\/+/, '')).replace(/\/+$/, '');
    if (/^(app\/)?api(\/|$)/.test(path)) throw new HttpProblem(404, 'not_found', `No API route ${req.method} /${path}.`);
    const name = path === '' ? 'index.html' : path;
    if (!ASSET.test(name)) throw new HttpProblem(404, 'not_found', `No page at /${path}.`);
    // App Service lets unauthenticated requests through (machine callers carry function keys, which only the Functions
    // host checks), so the page itself sends a browser that is not signed in to sign in. Scripts and styles hold no data.
    if (name === 'index.html' && deps.auth !== undefined && readPrincipal(req.headers, deps.auth).kind === 'anonymous') {
      const back = `${url.pathname}${url.search}`;
      return Promise.resolve(new Response(null, { status: 302, headers: { location: `${LOGIN_PATH}?post_login_redirect_uri=${encodeURIComponent(back)}`, 'cache-control': 'no-store' } }));
    }
    let bytes = cache.get(name);
    if (bytes === undefined) {
      const file = join(webRoot(), name);
      if (!existsSync(file)) throw new HttpProblem(404, 'not_found', `No page at /${path}.`);
      bytes = readFileSync(file);
      cache.set(name, bytes);
    }
    const ext = name.split('.').pop() ?? '';
    return Promise.resolve(
      new Response(new Uint8Array(bytes), {
        status: 200,
        headers: {
          'content-type': TYPES[ext] ?? 'application/octet-stream',
          'cache-control': 'no-cache',
          'x-content-type-options': 'nosniff',
          // The page loads nothing from elsewhere; images come from the API as blobs/object URLs.
          'content-security-policy': "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
        },
      }),
    );
  } catch (e) {
    return Promise.resolve(errorToResponse(e, ctx.log));
  }
}
