/**
 * Calls the blobsight API. Where the app has sign-in (App Service authentication with Microsoft Entra ID, or the
 * dev host's stand-in) the page uses the signed-in API under `app/api/` with the session cookie; otherwise it uses
 * the key routes with the function key, asking the person for it when the API answers 401.
 */

const KEY_STORAGE = 'blobsight.functionKey';

/** `{ mode: 'key' }` or `{ mode: 'signed-in', user, logoutUrl }`; set once by initSession. */
let session = { mode: 'key', user: null, logoutUrl: null, loginUrl: null };

export function currentSession() {
  return session;
}

/**
 * Asks the app whether people sign in here (GET app/api/me). Not signed in: goes to the sign-in page and never
 * resolves. An app without the route (or without sign-in) leaves the page in key mode.
 */
export async function initSession() {
  let me = null;
  try {
    const res = await fetch('app/api/me', { headers: { accept: 'application/json' } });
    if (res.ok) me = await res.json();
  } catch {
    me = null;
  }
  if (me === null || me.signIn !== 'available') return session;
  if (me.user === null) {
    goToSignIn(me.loginUrl);
    return new Promise(() => undefined);
  }
  session = { mode: 'signed-in', user: me.user, logoutUrl: me.logoutUrl, loginUrl: me.loginUrl };
  return session;
}

function goToSignIn(loginUrl) {
  const back = `${window.location.pathname}${window.location.search}${window.location.hash}`;
  window.location.assign(`${loginUrl ?? '/.auth/login/aad'}?post_login_redirect_uri=${encodeURIComponent(back)}`);
}

/** The key route `api/...` as the signed-in route `app/api/...` when signed in; health answers both alike. */
function routeFor(path) {
  return session.mode === 'signed-in' && path.startsWith('api/') && !path.startsWith('api/health') ? `app/${path}` : path;
}

/** An API answer that is not 2xx, carrying the problem JSON's `detail` and `code` when the API sent one. */
export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * Takes `?code=` from the page's own address into sessionStorage (this tab only) and removes it from the address
 * bar, so the key does not stay in the history, a bookmark or a screenshot.
 */
export function adoptKeyFromUrl() {
  const url = new URL(window.location.href);
  const code = url.searchParams.get('code');
  if (code === null) return;
  if (code.trim() !== '') sessionStorage.setItem(KEY_STORAGE, code.trim());
  url.searchParams.delete('code');
  window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
}

export function currentKey() {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

export function saveKey(key) {
  sessionStorage.setItem(KEY_STORAGE, key);
}

/** Set by the page: shows the key form and resolves once a new key was entered. */
let askForKey = () => Promise.reject(new ApiError(401, 'unauthorized', 'The API needs a function key.'));
let pendingAsk;

export function onKeyNeeded(fn) {
  askForKey = fn;
}

/** One prompt for every call that got a 401 at the same time; they all retry with the key entered. */
function keyNeeded(rejectedKey) {
  pendingAsk ??= askForKey(rejectedKey).finally(() => {
    pendingAsk = undefined;
  });
  return pendingAsk;
}

/**
 * `fetch` on a path relative to the page (`api/...`), with `x-functions-key`. A 401 waits for the person to
 * enter a key and tries again; it repeats only after they act, so it never spins on its own.
 */
export async function apiFetch(path, init = {}) {
  if (session.mode === 'signed-in') {
    let res;
    try {
      res = await fetch(routeFor(path), init);
    } catch (e) {
      throw new ApiError(0, 'network', `The service could not be reached (${e instanceof Error ? e.message : String(e)}).`);
    }
    // The session ended (expired, signed out in another tab): sign in again, then come back here.
    if (res.status === 401) {
      await res.body?.cancel();
      goToSignIn(session.loginUrl);
      return new Promise(() => undefined);
    }
    return res;
  }
  for (;;) {
    const key = currentKey();
    const headers = new Headers(init.headers);
    if (key !== '') headers.set('x-functions-key', key);
    let res;
    try {
      res = await fetch(path, { ...init, headers });
    } catch (e) {
      throw new ApiError(0, 'network', `The service could not be reached (${e instanceof Error ? e.message : String(e)}).`);
    }
    if (res.status !== 401) return res;
    await res.body?.cancel();
    await keyNeeded(key);
  }
}

/** The JSON body of a 2xx answer; otherwise throws an ApiError with the API's problem detail. */
export async function apiJson(path, init = {}) {
  const res = await apiFetch(path, init);
  const text = await res.text();
  let body = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (!res.ok) throw problemError(res, body);
  return body;
}

function problemError(res, body) {
  const detail = typeof body?.detail === 'string' && body.detail !== '' ? body.detail : `The API answered ${res.status} ${res.statusText}`.trim();
  const code = typeof body?.code === 'string' ? body.code : `http_${res.status}`;
  return new ApiError(res.status, code, detail);
}

/** An image from the API as an object URL (the API needs the key header, which an <img src> cannot send). */
export async function apiImageUrl(path, signal) {
  const res = await apiFetch(path, signal === undefined ? {} : { signal });
  if (!res.ok) {
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    throw problemError(res, body);
  }
  return URL.createObjectURL(await res.blob());
}
