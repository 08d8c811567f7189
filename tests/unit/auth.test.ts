/** Who is calling: the App Service principal header, believed only with the platform's authentication on. */
import { describe, expect, it } from 'vitest';

import { authorizeUser, encodeClientPrincipal, hasRole, InvalidPrincipalError, parseClientPrincipal, platformAuthEnabled, readPrincipal } from '../../shared/auth';
import { HttpProblem } from '../../shared/http';

const OID = '5b5450db-eb26-4c1a-981c-ba1d25f0483d';

/** A principal shaped as App Service sends it for Entra ID (claim types as in its documentation). */
function appServicePrincipal(claims: Array<{ typ: string; val: string }>, extra: Record<string, unknown> = {}): string {
  return Buffer.from(
    JSON.stringify({
      auth_typ: 'aad',
      name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
      role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
      claims,
      ...extra,
    }),
  ).toString('base64');
}

const on = { platformAuthEnabled: true };
const off = { platformAuthEnabled: false };

function req(method: string, headers: Record<string, string>): Request {
  return new Request('https://app.example/app/api/images', { method, headers });
}

function problemOf(fn: () => unknown): HttpProblem {
  try {
    fn();
  } catch (e) {
    if (e instanceof HttpProblem) return e;
    throw e;
  }
  throw new Error('expected an HttpProblem');
}

describe('parseClientPrincipal', () => {
  it('reads the object id, the name (name_typ) and the app roles (role_typ) of an Entra ID principal', () => {
    const p = parseClientPrincipal(
      appServicePrincipal([
        { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: OID.toUpperCase() },
        { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress', val: 'ana@contoso.example' },
        { typ: 'groups', val: 'f08bbbea-b793-4a36-a5fc-136c18d8aa8f' },
        { typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', val: 'Reviewer' },
        { typ: 'roles', val: 'Reader' },
      ]),
    );
    expect(p).toEqual({ objectId: OID, name: 'ana@contoso.example', roles: ['Reviewer', 'Reader'], identityProvider: 'aad' });
  });

  it('takes the short oid claim too, and has no roles when none are assigned', () => {
    const p = parseClientPrincipal(appServicePrincipal([{ typ: 'oid', val: OID }, { typ: 'name', val: 'Ana' }], { name_typ: undefined }));
    expect(p).toMatchObject({ objectId: OID, name: 'Ana', roles: [] });
  });

  it('refuses what is not a principal with an object id', () => {
    for (const bad of [
      '',
      'not base64!',
      Buffer.from('{"claims": 1}').toString('base64'),
      Buffer.from('[]').toString('base64'),
      appServicePrincipal([{ typ: 'name', val: 'no oid' }]),
      appServicePrincipal([{ typ: 'oid', val: 'not-a-guid' }]),
      'A'.repeat(20_000),
    ]) {
      expect(() => parseClientPrincipal(bad), bad.slice(0, 30)).toThrow(InvalidPrincipalError);
    }
  });

  it('round-trips the dev host encoding', () => {
    expect(parseClientPrincipal(encodeClientPrincipal({ objectId: OID, name: 'Dev', roles: ['Reader'] }))).toEqual({ objectId: OID, name: 'Dev', roles: ['Reader'], identityProvider: 'aad' });
  });
});

describe('readPrincipal', () => {
  const header = encodeClientPrincipal({ objectId: OID, name: 'Mallory', roles: ['Reviewer'] });

  it('ignores a forged principal header when App Service authentication is off', () => {
    const forged = new Headers({ 'x-ms-client-principal': header, 'x-ms-client-principal-name': 'Mallory', 'x-ms-client-principal-id': OID });
    expect(readPrincipal(forged, off)).toEqual({ kind: 'off' });
    expect(problemOf(() => authorizeUser(req('PATCH', Object.fromEntries(forged)), off, 'Reviewer'))).toMatchObject({ status: 401, code: 'sign_in_unavailable' });
  });

  it('believes the header when the platform is on (it strips and sets it then)', () => {
    expect(readPrincipal(new Headers({ 'x-ms-client-principal': header }), on)).toMatchObject({ kind: 'signed-in', principal: { objectId: OID, roles: ['Reviewer'] } });
    expect(readPrincipal(new Headers(), on)).toEqual({ kind: 'anonymous' });
    expect(readPrincipal(new Headers({ 'x-ms-client-principal': 'garbage!' }), on)).toMatchObject({ kind: 'invalid' });
  });

  it('reads WEBSITE_AUTH_ENABLED as App Service sets it (True), and nothing else as on', () => {
    expect(platformAuthEnabled('True')).toBe(true);
    expect(platformAuthEnabled('true')).toBe(true);
    for (const v of [undefined, '', 'False', '1', 'yes']) expect(platformAuthEnabled(v), String(v)).toBe(false);
  });
});

describe('authorizeUser and the roles', () => {
  const as = (roles: string[]): Record<string, string> => ({ 'x-ms-client-principal': encodeClientPrincipal({ objectId: OID, name: 'Ana', roles }) });

  it('lets a reviewer read and correct, a reader only read', () => {
    expect(hasRole(['Reviewer'], 'Reader')).toBe(true);
    expect(hasRole(['Reader'], 'Reviewer')).toBe(false);
    expect(authorizeUser(req('GET', as(['Reader'])), on, 'Reader').principal.objectId).toBe(OID);
    expect(authorizeUser(req('PATCH', as(['Reviewer'])), on, 'Reviewer').principal.name).toBe('Ana');
    const p = problemOf(() => authorizeUser(req('PATCH', as(['Reader'])), on, 'Reviewer'));
    expect(p).toMatchObject({ status: 403, code: 'missing_role' });
    expect(p.detail).toContain('needs Reviewer');
  });

  it('answers a signed-in user without a role 403 with the reason and the fix', () => {
    const p = problemOf(() => authorizeUser(req('GET', as([])), on, 'Reader'));
    expect(p).toMatchObject({ status: 403, code: 'no_role' });
    expect(p.detail).toMatch(/Signed in as Ana with no app role; this needs Reader or Reviewer.*Users and groups/);
  });

  it('sends a caller who is not signed in to sign in (401 with the login URL)', () => {
    expect(problemOf(() => authorizeUser(req('GET', {}), on, 'Reader'))).toMatchObject({ status: 401, code: 'sign_in_required', extra: { loginUrl: '/.auth/login/aad' } });
  });

  it('refuses a write from another site riding on the session cookie', () => {
    expect(problemOf(() => authorizeUser(req('PATCH', { ...as(['Reviewer']), 'sec-fetch-site': 'cross-site' }), on, 'Reviewer'))).toMatchObject({ status: 403, code: 'cross_site' });
    expect(authorizeUser(req('PATCH', { ...as(['Reviewer']), 'sec-fetch-site': 'same-origin' }), on, 'Reviewer').kind).toBe('user');
    expect(authorizeUser(req('GET', { ...as(['Reader']), 'sec-fetch-site': 'cross-site' }), on, 'Reader').kind).toBe('user');
  });
});
