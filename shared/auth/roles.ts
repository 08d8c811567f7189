/** The app roles declared on the Entra app registration (infra/app/auth.bicep) and what each may do. */
export const APP_ROLES = ['Reader', 'Reviewer'] as const;
export type AppRole = (typeof APP_ROLES)[number];

/** A reviewer corrects and therefore also looks; a reader only looks. */
const GRANTS: Readonly<Record<AppRole, readonly AppRole[]>> = {
  Reader: ['Reader', 'Reviewer'],
  Reviewer: ['Reviewer'],
};

/** True when one of `roles` allows what `needed` allows. Role values are compared exactly, as Entra issues them. */
export function hasRole(roles: readonly string[], needed: AppRole): boolean {
  return GRANTS[needed].some((r) => roles.includes(r));
}
