export { authorizeUser, LOGIN_PATH, LOGOUT_PATH } from './authorizeUser';
export type { Caller } from './caller';
export type { Principal } from './clientPrincipal';
export { CLIENT_PRINCIPAL_HEADER, encodeClientPrincipal, InvalidPrincipalError, OBJECT_ID_CLAIMS, parseClientPrincipal } from './clientPrincipal';
export type { AuthSettings, PrincipalState } from './readPrincipal';
export { platformAuthEnabled, readPrincipal } from './readPrincipal';
export type { AppRole } from './roles';
export { APP_ROLES, hasRole } from './roles';
