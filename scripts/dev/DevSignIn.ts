/**
 * The dev host's stand-in for App Service authentication: `/.auth/login/dev` lets a person pick a name and app roles,
 * sets a signed session cookie, and every later request carries `x-ms-client-principal` built exactly as App Service
 * builds it (client-sent `x-ms-client-principal*` headers are stripped first, as App Service does). The app then
 * runs the same code as in Azure with WEBSITE_AUTH_ENABLED=True. Loopback only: anyone on this machine can pick any
 * role, as anyone on it can read the dev function key.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import { APP_ROLES, encodeClientPrincipal, LOGIN_PATH, LOGOUT_PATH } from '../../shared/auth';

export const DEV_LOGIN_PATH = '/.auth/login/dev';
/** App Service's session cookie name, so the page and the tests see what they would see in Azure. */
export const SESSION_COOKIE = 'AppServiceAuthSession';

const MAX_FORM_BYTES = 8 * 1024;
const SESSION_HOURS = 8;

export interface DevSession {
  objectId: string;
  name: string;
  roles: string[];
  /** Epoch ms. */
  expiresAt: number;
}

export class DevSignIn {
  /** Signs the session cookie; made per start, so a restart signs everyone out. */
  private readonly secret = randomBytes(32);

  /** Answers `/.auth/*`; undefined for any other path. */
  async handle(method: string, url: URL, headers: Headers, body: (maxBytes: number) => Promise<Buffer | null>): Promise<Response | undefined> {
    const path = url.pathname.replace(/\/+$/, '').toLowerCase();
    if (!path.startsWith('/.auth')) return undefined;
    if (path === LOGIN_PATH) {
      // What App Service's Entra ID login would do: here, the dev sign-in page.
      return redirect(`${DEV_LOGIN_PATH}${url.search}`);
    }
    if (path === DEV_LOGIN_PATH && method === 'GET') return loginPage(safeRedirect(url.searchParams.get('post_login_redirect_uri')), this.read(headers));
    if (path === DEV_LOGIN_PATH && method === 'POST') {
      const raw = await body(MAX_FORM_BYTES);
      if (raw === null) return text(413, `The form is larger than ${MAX_FORM_BYTES} bytes.`);
      const form = new URLSearchParams(raw.toString('utf8'));
      const name = (form.get('name') ?? '').trim();
      if (name === '' || name.length > 100) return text(400, 'Enter a name of 1-100 characters.');
      const roles = form.getAll('role').filter((r) => (APP_ROLES as readonly string[]).includes(r));
      const session: DevSession = { objectId: objectIdFor(name), name, roles: [...new Set(roles)], expiresAt: Date.now() + SESSION_HOURS * 3_600_000 };
      return redirect(safeRedirect(form.get('post_login_redirect_uri')), { 'set-cookie': `${SESSION_COOKIE}=${this.sign(session)}; Path=/; HttpOnly; SameSite=Lax` });
    }
    if (path === LOGOUT_PATH) {
      return redirect(safeRedirect(url.searchParams.get('post_logout_redirect_uri')), { 'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0` });
    }
    return text(404, `No ${method} ${url.pathname} on the dev host's sign-in.`);
  }

  /** As App Service: drops whatever the client sent as a principal, then sets the session's, if there is one. */
  applyPrincipal(headers: Headers): void {
    for (const name of [...headers.keys()]) if (name.startsWith('x-ms-client-principal') || name.startsWith('x-ms-token-')) headers.delete(name);
    const session = this.read(headers);
    if (session === undefined) return;
    headers.set('x-ms-client-principal', encodeClientPrincipal({ objectId: session.objectId, name: session.name, roles: session.roles }));
    headers.set('x-ms-client-principal-id', session.objectId);
    headers.set('x-ms-client-principal-name', session.name);
    headers.set('x-ms-client-principal-idp', 'aad');
  }

  /** The session cookie's value for these claims (tests sign in without the form with it). */
  sign(session: DevSession): string {
    const payload = Buffer.from(JSON.stringify(session), 'utf8').toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  private read(headers: Headers): DevSession | undefined {
    const cookie = (headers.get('cookie') ?? '')
      .split(';')
      .map((c) => c.trim())
      .find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    const value = cookie?.slice(SESSION_COOKIE.length + 1) ?? '';
    const [payload, mac] = value.split('.');
    if (payload === undefined || mac === undefined || payload === '') return undefined;
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as DevSession;
      return session.expiresAt > Date.now() ? session : undefined;
    } catch {
      return undefined;
    }
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}

/** A stable object id per name, shaped like an Entra GUID, so one person's reviews stay attributed across sign-ins. */
export function objectIdFor(name: string): string {
  const h = createHash('sha256').update(`blobsight-dev:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Only a path on this site: an absolute or protocol-relative URL would make the sign-in an open redirect. */
function safeRedirect(target: string | null): string {
  return target !== null && target.startsWith('/') && !target.startsWith('//') && !target.startsWith('/\\') ? target : '/';
}

function redirect(location: string, headers: Record<string, string> = {}): Response {
  return new Response(null, { status: 302, headers: { location, 'cache-control': 'no-store', ...headers } });
}

function text(status: number, message: string): Response {
  return new Response(message, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(redirectTo: string, current: DevSession | undefined): Response {
  const roles = APP_ROLES.map(
    (r) => `<label><input type="checkbox" name="role" value="${r}"${current === undefined || current.roles.includes(r) ? ' checked' : ''}> ${r}</label>`,
  ).join('\n      ');
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Dev sign-in · blobsight</title><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
  <main>
    <h1>Dev sign-in</h1>
    <p>The local stand-in for Microsoft Entra ID sign-in (App Service authentication). Pick a name and the app roles to hold;
    the dev host then sends the app the same <code>x-ms-client-principal</code> header App Service would.</p>
    <form method="post" action="${DEV_LOGIN_PATH}">
      <input type="hidden" name="post_login_redirect_uri" value="${escapeHtml(redirectTo)}">
      <p><label for="name">Name</label> <input id="name" name="name" required maxlength="100" value="${escapeHtml(current?.name ?? 'Dev User')}"></p>
      <fieldset><legend>App roles</legend>
      ${roles}
      </fieldset>
      <p><button type="submit">Sign in</button></p>
    </form>
  </main>
</body>
</html>`;
  return new Response(html, { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; form-action 'self'; frame-ancestors 'none'" } });
}
