/** Who the platform says is calling, believed only when App Service authentication is on for this app. */
import type { Principal } from './clientPrincipal';
import { CLIENT_PRINCIPAL_HEADER, InvalidPrincipalError, parseClientPrincipal } from './clientPrincipal';

export interface AuthSettings {
  /**
   * App Service authentication (Easy Auth) runs in front of the app: App Service sets `WEBSITE_AUTH_ENABLED=True`
   * then, strips `x-ms-client-principal*` from incoming requests and sets them itself. When it is off, any client
   * can send those headers, so they are never read.
   */
  platformAuthEnabled: boolean;
}

export type PrincipalState =
  /** No platform authentication: nothing a client sends about its identity is believed. */
  | { kind: 'off' }
  | { kind: 'anonymous' }
  | { kind: 'signed-in'; principal: Principal }
  /** The platform sent a principal this app cannot use (no object id, malformed). */
  | { kind: 'invalid'; reason: string };

export function readPrincipal(headers: Headers, auth: AuthSettings): PrincipalState {
  if (!auth.platformAuthEnabled) return { kind: 'off' };
  const header = headers.get(CLIENT_PRINCIPAL_HEADER);
  if (header === null || header.trim() === '') return { kind: 'anonymous' };
  try {
    return { kind: 'signed-in', principal: parseClientPrincipal(header) };
  } catch (e) {
    if (e instanceof InvalidPrincipalError) return { kind: 'invalid', reason: e.message };
    throw e;
  }
}

/** `WEBSITE_AUTH_ENABLED` as App Service injects it (`True`); anything else, or unset, is off. */
export function platformAuthEnabled(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}
