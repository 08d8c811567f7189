/**
 * The signed-in user as App Service authentication (Easy Auth) hands it to the app: the `x-ms-client-principal`
 * header, base64 JSON `{ auth_typ, name_typ, role_typ, claims: [{ typ, val }] }`. App Service strips this header
 * from incoming requests and sets it itself, so it is only believed when the platform's authentication is on
 * (see readPrincipal).
 */
import { z } from 'zod';

export const CLIENT_PRINCIPAL_HEADER = 'x-ms-client-principal';

/** Entra ID's object id of the user: the long claim name Easy Auth maps `oid` to, or `oid` itself. */
export const OBJECT_ID_CLAIMS = ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid'] as const;
const ROLE_CLAIMS = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'] as const;
const NAME_CLAIMS = ['name', 'preferred_username', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name'] as const;

/** Header values are bounded by the front end (16 KB); anything near that is not a principal we issued. */
const MAX_HEADER_CHARS = 16 * 1024;

export interface Principal {
  /** Entra ID object id (a GUID): stable across renames, what a review is attributed to. */
  objectId: string;
  /** Display name (or user principal name) at sign-in; for people to read, not to decide on. */
  name: string | null;
  /** App role values from the token (e.g. Reader, Reviewer); empty when none is assigned. */
  roles: string[];
  /** `auth_typ`, e.g. `aad`. */
  identityProvider: string;
}

export class InvalidPrincipalError extends Error {
  override readonly name = 'InvalidPrincipalError';
}

const claim = z.object({ typ: z.string().min(1).max(512), val: z.string().max(4096) });
const principalJson = z.object({
  auth_typ: z.string().min(1).max(64),
  name_typ: z.string().max(512).optional(),
  role_typ: z.string().max(512).optional(),
  claims: z.array(claim).max(500),
});

/** Decodes the header; throws InvalidPrincipalError when it is not a client principal with an object id. */
export function parseClientPrincipal(header: string): Principal {
  const text = header.trim();
  if (text === '' || text.length > MAX_HEADER_CHARS || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw new InvalidPrincipalError('x-ms-client-principal is not base64.');
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  } catch {
    throw new InvalidPrincipalError('x-ms-client-principal is not base64 JSON.');
  }
  const parsed = principalJson.safeParse(raw);
  if (!parsed.success) throw new InvalidPrincipalError(`x-ms-client-principal is not a client principal: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}.`);
  const p = parsed.data;
  const values = (types: readonly string[]): string[] => p.claims.filter((c) => types.includes(c.typ)).map((c) => c.val);
  const objectId = values(OBJECT_ID_CLAIMS)[0];
  if (objectId === undefined || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(objectId)) {
    throw new InvalidPrincipalError('x-ms-client-principal has no Entra object id (claim oid).');
  }
  const nameTypes = p.name_typ === undefined ? NAME_CLAIMS : [p.name_typ, ...NAME_CLAIMS];
  const roleTypes = p.role_typ === undefined ? ROLE_CLAIMS : [p.role_typ, ...ROLE_CLAIMS];
  return {
    objectId: objectId.toLowerCase(),
    name: values(nameTypes).find((v) => v.trim() !== '')?.trim() ?? null,
    roles: [...new Set(values(roleTypes))],
    identityProvider: p.auth_typ,
  };
}

/** The header App Service would send for these claims: the dev host's sign-in and the tests use it. */
export function encodeClientPrincipal(p: { objectId: string; name: string; roles: readonly string[]; identityProvider?: string }): string {
  const body = {
    auth_typ: p.identityProvider ?? 'aad',
    name_typ: 'name',
    role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
    claims: [
      { typ: OBJECT_ID_CLAIMS[0], val: p.objectId },
      { typ: 'name', val: p.name },
      ...p.roles.map((r) => ({ typ: 'roles', val: r })),
    ],
  };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
}
