/**
 * People sign in, machines use keys, through the dev host as `npm start` runs it: the dev sign-in sets a session,
 * the host sends the app `x-ms-client-principal` as App Service does, and the app's roles decide. The same handlers
 * run in Azure behind App Service authentication.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { DevHost } from '../../scripts/dev/devHost';
import { startDevHost } from '../../scripts/dev/devHost';
import { objectIdFor } from '../../scripts/dev/DevSignIn';
import { encodeClientPrincipal } from '../../shared/auth';
import type { Services } from '../../shared/runtime';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

const KEY = 'dev-sign-in-test-key';
let fake: FakeOpenAI;
let app: TestApp;
let host: DevHost;
let docId: string;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
  app = await startTestApp(fake, { WEBSITE_AUTH_ENABLED: 'True' });
  host = await startDevHost({ services: app.services, functionKey: KEY, port: 0, signIn: true });
  const out = await app.put('pets/signed-in.jpg', await jpeg(320, 240));
  if (!('document' in out)) throw new Error(out.outcome);
  docId = out.document.id;
});
afterAll(async () => {
  await host?.close();
  await app?.cleanup();
  await fake?.close();
});

/** Signs in through the dev sign-in form, as the page's browser does; returns the session cookie. */
async function signIn(name: string, roles: string[], baseUrl = host.url): Promise<string> {
  const form = new URLSearchParams({ name, post_login_redirect_uri: '/' });
  for (const r of roles) form.append('role', r);
  const res = await fetch(`${baseUrl}/.auth/login/dev`, { method: 'POST', body: form, redirect: 'manual' });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe('/');
  const cookie = res.headers.getSetCookie()[0] ?? '';
  expect(cookie).toMatch(/^AppServiceAuthSession=[^;]+; Path=\/; HttpOnly; SameSite=Lax/);
  return cookie.split(';')[0] ?? '';
}

async function call(path: string, init: RequestInit & { cookie?: string } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers = new Headers(init.headers);
  if (init.cookie !== undefined) headers.set('cookie', init.cookie);
  const res = await fetch(`${host.url}${path}`, { ...init, headers, redirect: 'manual' });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}

function review(id: string, body: unknown, init: { cookie?: string; headers?: Record<string, string>; path?: string } = {}): ReturnType<typeof call> {
  return call(init.path ?? `/app/api/images/${id}/review`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
    body: JSON.stringify(body),
    ...(init.cookie === undefined ? {} : { cookie: init.cookie }),
  });
}

describe('the page and the dev sign-in', () => {
  it('sends a browser that is not signed in to sign in, and back to the page afterwards', async () => {
    const page = await fetch(`${host.url}/?x=1`, { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe(`/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent('/?x=1')}`);
    // App Service's Entra ID login path leads to the dev sign-in form on the dev host.
    const aad = await fetch(`${host.url}${page.headers.get('location') ?? ''}`, { redirect: 'manual' });
    expect(aad.headers.get('location')).toBe(`/.auth/login/dev?post_login_redirect_uri=${encodeURIComponent('/?x=1')}`);
    const form = await fetch(`${host.url}${aad.headers.get('location') ?? ''}`);
    expect(form.status).toBe(200);
    const html = await form.text();
    expect(html).toContain('name="role" value="Reader"');
    expect(html).toContain('name="role" value="Reviewer"');
    expect(html).toContain('value="/?x=1"');

    const cookie = await signIn('Ana', ['Reviewer']);
    const signedIn = await fetch(`${host.url}/`, { headers: { cookie } });
    expect(signedIn.status).toBe(200);
    expect(await signedIn.text()).toContain('<title>blobsight</title>');
    expect((await call('/app/api/me', { cookie })).body).toMatchObject({ signIn: 'available', user: { name: 'Ana', objectId: objectIdFor('Ana'), roles: ['Reviewer'], canRead: true, canReview: true } });
    // Scripts and styles hold no data: served signed out too (the sign-in page itself needs nothing from them).
    expect((await fetch(`${host.url}/app.js`)).status).toBe(200);
  });

  it('never redirects off the site after sign-in, and signs out', async () => {
    const res = await fetch(`${host.url}/.auth/login/dev`, { method: 'POST', body: new URLSearchParams({ name: 'Eve', role: 'Reader', post_login_redirect_uri: '//evil.example/x' }), redirect: 'manual' });
    expect(res.headers.get('location')).toBe('/');
    const out = await fetch(`${host.url}/.auth/logout?post_logout_redirect_uri=/`, { redirect: 'manual' });
    expect(out.status).toBe(302);
    expect(out.headers.getSetCookie()[0]).toMatch(/^AppServiceAuthSession=; .*Max-Age=0/);
  });

  it('does not accept a session cookie it did not sign', async () => {
    const cookie = await signIn('Ana', ['Reader']);
    const [name, value] = cookie.split('=');
    const [payload] = (value ?? '').split('.');
    const forged = Buffer.from(JSON.stringify({ objectId: objectIdFor('Boss'), name: 'Boss', roles: ['Reviewer'], expiresAt: Date.now() + 60_000 })).toString('base64url');
    expect(payload).not.toBe(forged);
    expect((await call('/app/api/me', { cookie: `${name ?? ''}=${forged}.${'x'.repeat(43)}` })).body).toMatchObject({ user: null });
  });
});

describe('roles on the signed-in API', () => {
  it('stores the signed-in reviewer\'s object id and name with the review, whatever headers the client adds', async () => {
    const cookie = await signIn('Ana', ['Reviewer']);
    const forged = encodeClientPrincipal({ objectId: '00000000-0000-4000-8000-000000000666', name: 'Mallory', roles: ['Reviewer'] });
    const res = await review(docId, { label: 'cat', note: 'ears' }, { cookie, headers: { 'x-ms-client-principal': forged, 'x-ms-client-principal-name': 'Mallory' } });
    expect(res.status).toBe(200);
    const stored = await app.services.store.get(docId);
    expect(stored?.review).toMatchObject({ reviewer: 'Ana', reviewedBy: { kind: 'user', objectId: objectIdFor('Ana'), name: 'Ana', identityProvider: 'aad' }, labels: ['cat'] });
    expect(res.body).toMatchObject({ review: { reviewedBy: { objectId: objectIdFor('Ana') } } });
    // A signed-in user cannot put another name on the review.
    expect((await review(docId, { label: 'cat', reviewer: 'Mallory' }, { cookie })).status).toBe(400);
  });

  it('lets a reader look but not correct or upload, and says which role is missing', async () => {
    const cookie = await signIn('Rita', ['Reader']);
    const list = await call('/app/api/images', { cookie });
    expect(list.status).toBe(200);
    expect((list.body['items'] as Array<{ id: string }>).map((d) => d.id)).toContain(docId);
    expect((await call(`/app/api/images/${docId}`, { cookie })).status).toBe(200);
    expect((await call('/app/api/profiles', { cookie })).status).toBe(200);
    const content = await fetch(`${host.url}/app/api/images/${docId}/content?size=64`, { headers: { cookie } });
    expect(content.status).toBe(200);
    expect(content.headers.get('content-type')).toMatch(/^image\//);
    await content.body?.cancel();

    const denied = await review(docId, { label: 'dog' }, { cookie });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ code: 'missing_role', needed: 'Reviewer' });
    expect(denied.body['detail']).toContain('Signed in as Rita with the role(s) Reader; this needs Reviewer');
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(await jpeg(64, 64))], { type: 'image/jpeg' }), 'x.jpg');
    expect((await call('/app/api/uploads?profile=pets', { method: 'POST', body: form, cookie })).status).toBe(403);
    expect((await app.services.store.get(docId))?.review?.reviewer).toBe('Ana');
  });

  it('answers a signed-in user without a role 403 with the reason, and a caller not signed in 401, forged header or not', async () => {
    const cookie = await signIn('Nora', []);
    const res = await call('/app/api/images', { cookie });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'no_role' });
    expect(res.body['detail']).toMatch(/Signed in as Nora with no app role; this needs Reader or Reviewer\. An owner assigns it/);
    expect((await call('/app/api/me', { cookie })).body).toMatchObject({ user: { name: 'Nora', roles: [], canRead: false } });

    const forged = encodeClientPrincipal({ objectId: '00000000-0000-4000-8000-000000000666', name: 'Mallory', roles: ['Reviewer'] });
    const anonymous = await call('/app/api/images', { headers: { 'x-ms-client-principal': forged } });
    expect(anonymous).toMatchObject({ status: 401, body: { code: 'sign_in_required', loginUrl: '/.auth/login/aad' } });
  });

  it('refuses a cross-site write riding on the session cookie', async () => {
    const cookie = await signIn('Ana', ['Reviewer']);
    const res = await review(docId, { label: 'dog' }, { cookie, headers: { 'sec-fetch-site': 'cross-site' } });
    expect(res).toMatchObject({ status: 403, body: { code: 'cross_site' } });
  });
});

describe('machines keep function keys', () => {
  it('serves the key routes with the key and without sign-in, and records a keyed review as such', async () => {
    expect((await call('/api/images')).status).toBe(401);
    expect((await call('/api/images', { headers: { 'x-functions-key': KEY } })).status).toBe(200);
    const res = await review(docId, { label: 'dog', reviewer: 'labeller-bot' }, { path: `/api/images/${docId}/review`, headers: { 'x-functions-key': KEY, 'x-ms-client-principal-name': 'Mallory' } });
    expect(res.status).toBe(200);
    const stored = await app.services.store.get(docId);
    expect(stored?.review).toMatchObject({ reviewer: 'labeller-bot', reviewedBy: { kind: 'key' }, labels: ['dog'] });
  });

  it('gives health details to a key holder or a signed-in reader, and only the status to anyone else', async () => {
    const anonymous = await call('/api/health');
    expect(anonymous).toEqual({ status: 200, body: { status: 'ok' } });
    const reader = await call('/api/health', { cookie: await signIn('Rita', ['Reader']) });
    expect(reader.body).toMatchObject({ status: 'ok', checks: [{ name: 'storage', ok: true }, { name: 'cosmos', ok: true }, { name: 'model', ok: true, breaker: 'closed' }], model: { deployment: fake.deployment, endpoint: fake.url } });
    const noRole = await call('/api/health', { cookie: await signIn('Nora', []) });
    expect(noRole.body).toEqual({ status: 'ok' });
    expect((await call('/api/health/details')).status).toBe(401);
    expect((await call('/api/health/details', { headers: { 'x-functions-key': KEY } })).body).toMatchObject({ checks: [{ name: 'storage' }, { name: 'cosmos' }, { name: 'model' }], model: { endpoint: fake.url } });
  });
});

describe('with App Service authentication off', () => {
  let plain: DevHost;
  beforeAll(async () => {
    const off: Services = { ...app.services, config: { ...app.services.config, auth: { platformAuthEnabled: false } } };
    plain = await startDevHost({ services: off, functionKey: KEY, port: 0 });
  });
  afterAll(async () => {
    await plain?.close();
  });

  it('trusts no principal header: the signed-in API refuses, the page asks for the key, the reviewer is not taken from a header', async () => {
    const forged = encodeClientPrincipal({ objectId: '00000000-0000-4000-8000-000000000666', name: 'Mallory', roles: ['Reviewer'] });
    const headers = { 'x-ms-client-principal': forged, 'x-ms-client-principal-name': 'Mallory', 'content-type': 'application/json' };
    const signedIn = await fetch(`${plain.url}/app/api/images/${docId}/review`, { method: 'PATCH', headers, body: JSON.stringify({ label: 'cat' }) });
    expect(signedIn.status).toBe(401);
    expect(await signedIn.json()).toMatchObject({ code: 'sign_in_unavailable' });
    expect(await (await fetch(`${plain.url}/app/api/me`, { headers })).json()).toMatchObject({ signIn: 'unavailable', user: null });
    expect((await fetch(`${plain.url}/`, { redirect: 'manual' })).status).toBe(200);
    expect(await (await fetch(`${plain.url}/api/health`, { headers })).json()).toEqual({ status: 'ok' });

    // The reviewer used to be whatever x-ms-client-principal-name said.
    const keyed = await fetch(`${plain.url}/api/images/${docId}/review`, { method: 'PATCH', headers: { ...headers, 'x-functions-key': KEY }, body: JSON.stringify({ label: 'cat' }) });
    expect(keyed.status).toBe(200);
    expect((await app.services.store.get(docId))?.review).toMatchObject({ reviewer: null, reviewedBy: { kind: 'key' } });
    expect((await fetch(`${plain.url}/.auth/login/dev`)).status).toBe(404);
  });

  it('refuses to start a host whose app trusts the header without the sign-in that sets it, and the other way round', async () => {
    await expect(startDevHost({ services: app.services, functionKey: KEY, port: 0 })).rejects.toThrow(/WEBSITE_AUTH_ENABLED is on but the dev host has no sign-in/);
    const off: Services = { ...app.services, config: { ...app.services.config, auth: { platformAuthEnabled: false } } };
    await expect(startDevHost({ services: off, functionKey: KEY, port: 0, signIn: true })).rejects.toThrow(/needs the services built with WEBSITE_AUTH_ENABLED=True/);
  });
});
