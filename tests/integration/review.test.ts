/** The review queue: needs_review first, least confident first, leases that keep two reviewers apart, sign-in identity. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { encodeClientPrincipal } from '../../shared/auth';
import type { HttpContext } from '../../shared/http';
import { silentLogger } from '../../shared/logging';
import type { FunctionName, Services } from '../../shared/runtime';
import { httpFunction } from '../../shared/runtime';
import type { ImageDocument } from '../../shared/store';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

let fake: FakeOpenAI;
let app: TestApp;
let s: Services;
const ids: Record<string, string> = {};

beforeAll(async () => {
  fake = await startFakeOpenAI();
  // Sign-in on, as App Service sets it, so the signed-in twin reads the principal header.
  app = await startTestApp(fake, { WEBSITE_AUTH_ENABLED: 'true', REVIEW_LEASE_SECONDS: '60' });
  s = app.services;
  // Four images: two needing review (0.5, 0.6), two classified (0.9, 0.97).
  const put = async (name: string, label: string, confidence: number, w: number): Promise<void> => {
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label }), confidences: { label: confidence } }));
    const out = await app.put(name, await jpeg(w, 40));
    if (!('document' in out)) throw new Error(`no document for ${name}`);
    ids[name] = out.document.id;
  };
  await put('pets/r-sure.jpg', 'dog', 0.97, 41);
  await put('pets/r-unsure-b.jpg', 'cat', 0.6, 42);
  await put('pets/r-fairly.jpg', 'dog', 0.9, 43);
  await put('pets/r-unsure-a.jpg', 'dog', 0.5, 44);
});
afterAll(async () => {
  await app.cleanup();
  await fake.close();
});

async function call(name: FunctionName, req: Request, params: Record<string, string> = {}): Promise<Response> {
  const ctx: HttpContext = { params, log: silentLogger };
  return httpFunction(name).handler(req, ctx, s);
}

const asUser = (oid: string, name: string): Record<string, string> => ({ 'x-ms-client-principal': encodeClientPrincipal({ objectId: oid, name, roles: ['Reviewer'] }) });
const ANA = '11111111-1111-1111-1111-111111111111';
const BO = '22222222-2222-2222-2222-222222222222';

async function next(headers: Record<string, string>, query = ''): Promise<{ status: number; item: ImageDocument | null; lease: { expiresAt: string } | null }> {
  const res = await call('reviewNextSignedIn', new Request(`http://h/app/api/review/next${query}`, { headers }));
  const body = (await res.json()) as { item: ImageDocument | null; lease: { expiresAt: string } | null };
  return { status: res.status, ...body };
}

describe('GET /api/review/next', () => {
  it('hands out needs_review first, least confident first, and never what another reviewer holds', async () => {
    const a = await next(asUser(ANA, 'Ana'));
    expect(a.status).toBe(200);
    expect(a.item?.id).toBe(ids['pets/r-unsure-a.jpg']);
    expect(a.item).not.toHaveProperty('reviewLease');
    // Bo asks at the same time: Ana holds the least confident one, so he gets the next.
    const b = await next(asUser(BO, 'Bo'));
    expect(b.item?.id).toBe(ids['pets/r-unsure-b.jpg']);
    // Ana asking again (a reload) gets the one she holds, not a new one.
    expect((await next(asUser(ANA, 'Ana'))).item?.id).toBe(ids['pets/r-unsure-a.jpg']);
    // With the needs_review ones held, the least confident classified image comes next.
    const key = await call('reviewNext', new Request('http://h/api/review/next?reviewer=ops'));
    expect(((await key.json()) as { item: ImageDocument }).item.id).toBe(ids['pets/r-fairly.jpg']);
  });

  it('stores the review as the signed-in user beside the model answer, and the image leaves the queue', async () => {
    const held = await next(asUser(ANA, 'Ana'));
    const id = held.item?.id ?? '';
    const res = await call('reviewImageSignedIn', new Request(`http://h/app/api/images/${id}/review`, { method: 'PATCH', headers: { ...asUser(ANA, 'Ana'), 'content-type': 'application/json' }, body: JSON.stringify({ label: 'cat' }) }), { id });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as ImageDocument;
    // The model's answer stays as it was; the correction sits beside it with who made it.
    expect(doc.result).toMatchObject({ kind: 'single-label', label: 'dog' });
    expect(doc.review).toMatchObject({ result: { label: 'cat' }, reviewer: 'Ana', reviewedBy: { kind: 'user', objectId: ANA } });
    // A reviewer claimed in the body is refused when signed in.
    const forged = await call('reviewNextSignedIn', new Request('http://h/app/api/review/next?reviewer=Mallory', { headers: asUser(ANA, 'Ana') }));
    expect(forged.status).toBe(400);
    // Ana's next image is a new one: the reviewed image is out of the queue for everyone.
    const after = await next(asUser(ANA, 'Ana'));
    expect(after.item?.id).not.toBe(id);
    expect(after.item?.id).toBe(ids['pets/r-sure.jpg']);
  });

  it('gives a skipped image back at once and offers it to the next reviewer', async () => {
    const bo = await next(asUser(BO, 'Bo'));
    const held = bo.item?.id ?? '';
    expect(held).toBe(ids['pets/r-unsure-b.jpg']);
    const skipped = await next(asUser(BO, 'Bo'), `?skip=${held}`);
    expect(skipped.item?.id).not.toBe(held);
    // Released: someone else may now take it.
    const other = await next(asUser('33333333-3333-3333-3333-333333333333', 'Cy'));
    expect(other.item?.id).toBe(held);
    expect((await call('reviewNextSignedIn', new Request('http://h/app/api/review/next?skip=nope', { headers: asUser(BO, 'Bo') }))).status).toBe(400);
  });

  it('answers item null when nothing is left, and needs the Reviewer role when signed in', async () => {
    const empty = await call('reviewNext', new Request('http://h/api/review/next?profile=flowers'));
    expect(await empty.json()).toEqual({ item: null, lease: null });
    const reader = await call('reviewNextSignedIn', new Request('http://h/app/api/review/next', { headers: { 'x-ms-client-principal': encodeClientPrincipal({ objectId: ANA, name: 'Ana', roles: ['Reader'] }) } }));
    expect(reader.status).toBe(403);
  });
});
