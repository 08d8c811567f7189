/** The signed-in routes' gate: a platform-authenticated principal holding the role, from this site only. */
import { HttpProblem } from '../http/problem';
import type { Caller } from './caller';
import type { AuthSettings } from './readPrincipal';
import { readPrincipal } from './readPrincipal';
import type { AppRole } from './roles';
import { hasRole } from './roles';

/** Where App Service authentication signs a browser in with Microsoft Entra ID (the dev host serves a stand-in). */
export const LOGIN_PATH = '/.auth/login/aad';
export const LOGOUT_PATH = '/.auth/logout';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The caller as a user with `needed`, or an HttpProblem (401 not signed in, 403 without the role) saying why. */
export function authorizeUser(req: Request, auth: AuthSettings, needed: AppRole): Extract<Caller, { kind: 'user' }> {
  const state = readPrincipal(req.headers, auth);
  switch (state.kind) {
    case 'off':
      throw new HttpProblem(401, 'sign_in_unavailable', 'App Service authentication is not enabled for this app, so no signed-in user can be trusted. Call the /api routes with a function key instead.');
    case 'anonymous':
      throw new HttpProblem(401, 'sign_in_required', `Sign in first: ${LOGIN_PATH}.`, {}, { loginUrl: LOGIN_PATH });
    case 'invalid':
      throw new HttpProblem(403, 'unrecognised_principal', `The signed-in identity cannot be used here: ${state.reason}`);
    case 'signed-in':
      break;
  }
  const p = state.principal;
  // A cookie rides along on cross-site requests; a write must come from this site's own page.
  const site = req.headers.get('sec-fetch-site');
  if (!SAFE_METHODS.has(req.method.toUpperCase()) && site !== null && site !== 'same-origin') {
    throw new HttpProblem(403, 'cross_site', `A ${req.method} with a sign-in session must come from this site's page (Sec-Fetch-Site was ${site}).`);
  }
  if (!hasRole(p.roles, needed)) {
    const who = p.name ?? p.objectId;
    const has = p.roles.length === 0 ? 'no app role' : `the role(s) ${p.roles.join(', ')}`;
    throw new HttpProblem(
      403,
      p.roles.length === 0 ? 'no_role' : 'missing_role',
      `Signed in as ${who} with ${has}; this needs ${needed}${needed === 'Reader' ? ' or Reviewer' : ''}. An owner assigns it in Microsoft Entra ID: Enterprise applications → the blobsight app → Users and groups.`,
      {},
      { needed },
    );
  }
  return { kind: 'user', principal: p };
}
