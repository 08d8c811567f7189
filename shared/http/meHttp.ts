/** GET /app/api/me: whether people sign in here, and who the page is signed in as (the page picks sign-in or a key). */
import type { AuthSettings } from '../auth';
import { hasRole, LOGIN_PATH, LOGOUT_PATH, readPrincipal } from '../auth';
import type { HttpContext } from './HttpContext';
import { json } from './HttpContext';

export function meHttp(req: Request, _ctx: HttpContext, auth: AuthSettings): Promise<Response> {
  const state = readPrincipal(req.headers, auth);
  const user =
    state.kind === 'signed-in'
      ? {
          objectId: state.principal.objectId,
          name: state.principal.name,
          roles: state.principal.roles,
          canRead: hasRole(state.principal.roles, 'Reader'),
          canReview: hasRole(state.principal.roles, 'Reviewer'),
        }
      : null;
  return Promise.resolve(
    json({
      signIn: state.kind === 'off' ? 'unavailable' : 'available',
      user,
      ...(state.kind === 'invalid' ? { problem: state.reason } : {}),
      loginUrl: state.kind === 'off' ? null : LOGIN_PATH,
      logoutUrl: state.kind === 'off' ? null : LOGOUT_PATH,
    }),
  );
}
