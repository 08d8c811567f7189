/**
 * Sign-in in infra/, checked on the syntax tree: App Service authentication (authsettingsV2) with Microsoft Entra ID,
 * wired to the app registration the Graph extension creates, its two app roles, and no client secret anywhere. Each
 * check also runs on a broken copy, so it is known to fail when the template is wrong.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { APP_ROLES } from '../../shared/auth';
import type { HttpFunctionDefinition } from '../../shared/runtime';
import { FUNCTIONS } from '../../shared/runtime';
import type { BicepFile } from '../support/bicepTree';
import { descendantsOfType, literal, modules, objectProperties, outputs, parameters, parseBicep, parseBicepDir, property, propertyKey, resources, stringValue } from '../support/bicepTree';

const repoRoot = path.resolve(__dirname, '..', '..');
const FIC_SETTING = 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID';

let files: BicepFile[] = [];
beforeAll(async () => {
  files = await parseBicepDir(repoRoot, 'infra');
});

function file(fs: BicepFile[], rel: string): BicepFile {
  const f = fs.find((x) => x.rel === rel);
  if (f === undefined) throw new Error(`${rel} was not found under infra/`);
  return f;
}

async function mutated(rel: string, from: string, to: string): Promise<BicepFile[]> {
  const f = file(files, rel);
  if (!f.source.includes(from)) throw new Error(`${rel} does not contain ${from}`);
  const changed = await parseBicep(f.source.replace(from, to), rel);
  return files.map((x) => (x.rel === rel ? changed : x));
}

/** The param a module call passes, as written in main.bicep. */
function moduleParam(fs: BicepFile[], moduleSource: string, param: string): string | undefined {
  const m = modules(file(fs, 'infra/main.bicep')).find((x) => x.source === moduleSource);
  return property(m?.body, 'params', param)?.text;
}

/** What is wrong with App Service authentication in auth.bicep and its wiring; empty when right. */
function authSettingsProblems(fs: BicepFile[]): string[] {
  const problems: string[] = [];
  const auth = file(fs, 'infra/app/auth.bicep');
  const configs = resources(auth).filter((r) => r.type === 'Microsoft.Web/sites/config' && stringValue(property(r.body, 'name')) === 'authsettingsV2');
  if (configs.length !== 1) return ['auth.bicep: expected one Microsoft.Web/sites/config named authsettingsV2'];
  const body = configs[0]?.body;
  const site = resources(auth).find((r) => r.type === 'Microsoft.Web/sites' && r.existing);
  if (site === undefined || property(body, 'parent')?.text !== site.symbol || property(site.body, 'name')?.text !== 'functionAppName') problems.push('authsettingsV2 is not on the function app named by functionAppName');
  if (moduleParam(fs, 'app/auth.bicep', 'functionAppName') !== 'api.outputs.name') problems.push('main.bicep does not pass the function app (api.outputs.name) to auth.bicep');
  if (property(body, 'properties', 'platform', 'enabled')?.text !== 'true') problems.push('platform.enabled is not true');
  // Keys are checked by the Functions host, behind this layer: requiring authentication here would redirect or 401
  // every keyed machine call before the host saw its key.
  if (property(body, 'properties', 'globalValidation', 'requireAuthentication')?.text !== 'false') problems.push('requireAuthentication must be false (machine callers carry function keys)');
  if (stringValue(property(body, 'properties', 'globalValidation', 'unauthenticatedClientAction')) !== 'AllowAnonymous') problems.push('unauthenticatedClientAction must be AllowAnonymous');
  if (property(body, 'properties', 'httpSettings', 'requireHttps')?.text !== 'true') problems.push('httpSettings.requireHttps is not true');
  const aad = property(body, 'properties', 'identityProviders', 'azureActiveDirectory');
  if (property(aad, 'enabled')?.text !== 'true') problems.push('the Microsoft Entra ID provider is not enabled');
  const others = objectProperties(property(body, 'properties', 'identityProviders')).map(propertyKey).filter((k) => k !== 'azureActiveDirectory');
  if (others.length > 0) problems.push(`other identity providers: ${others.join(', ')}`);
  const registration = property(aad, 'registration');
  if (property(registration, 'clientId')?.text !== 'clientId') problems.push('registration.clientId is not the clientId parameter');
  if (moduleParam(fs, 'app/auth.bicep', 'clientId') !== 'entraApp.outputs.clientId') problems.push('main.bicep does not pass the app registration\'s client id to auth.bicep');
  const issuer = property(registration, 'openIdIssuer')?.text ?? '';
  if (!issuer.includes('tenant().tenantId') || !issuer.endsWith("/v2.0'")) problems.push(`openIdIssuer is not this tenant's v2.0 issuer: ${issuer}`);
  if (!(property(aad, 'validation', 'allowedAudiences')?.text ?? '').includes('clientId')) problems.push('allowedAudiences does not hold the client id');
  return problems;
}

/** What is wrong with the app registration (entra-app.bicep) and its wiring; empty when right. */
function registrationProblems(fs: BicepFile[]): string[] {
  const problems: string[] = [];
  const f = file(fs, 'infra/app/entra-app.bicep');
  if (!/^(\s*\/\/.*\n)*extension microsoftGraphV1\n/.test(f.source)) problems.push('entra-app.bicep does not start with `extension microsoftGraphV1`');
  const apps = resources(f).filter((r) => r.type === 'Microsoft.Graph/applications');
  if (apps.length !== 1) return [...problems, 'expected one Microsoft.Graph/applications'];
  const app = apps[0];
  if (property(app?.body, 'uniqueName') === undefined) problems.push('the application has no uniqueName (redeploys would create another)');
  if (stringValue(property(app?.body, 'signInAudience')) !== 'AzureADMyOrg') problems.push('signInAudience is not AzureADMyOrg');
  const redirect = descendantsOfType(property(app?.body, 'web', 'redirectUris') ?? f.root, 'string').map((s) => s.text);
  if (!redirect.includes("'${appUri}/.auth/login/aad/callback'")) problems.push(`redirect URIs are not App Service's callback: ${redirect.join(', ')}`);
  if (moduleParam(fs, 'app/entra-app.bicep', 'appUri') !== 'api.outputs.uri') problems.push('main.bicep does not pass the function app URI to entra-app.bicep');
  const clientIdOut = outputs(f).find((o) => o.name === 'clientId');
  if (clientIdOut?.value?.text !== `${app?.symbol ?? ''}.appId`) problems.push('output clientId is not the application\'s appId');

  // The two roles, exactly as shared/auth checks them, for users, with distinct ids.
  const roles = descendantsOfType(property(app?.body, 'appRoles') ?? f.root, 'object').filter((o) => property(o, 'value') !== undefined);
  const values = roles.map((r) => stringValue(property(r, 'value')));
  if (JSON.stringify([...values].sort()) !== JSON.stringify([...APP_ROLES].sort())) problems.push(`app roles are ${values.join(', ')}, not ${APP_ROLES.join(', ')}`);
  for (const r of roles) {
    if (JSON.stringify(literal(property(r, 'allowedMemberTypes') as NonNullable<ReturnType<typeof property>>)) !== '["User"]') problems.push(`role ${stringValue(property(r, 'value')) ?? '?'} is not for users`);
    if (property(r, 'isEnabled')?.text !== 'true') problems.push(`role ${stringValue(property(r, 'value')) ?? '?'} is not enabled`);
  }
  if (new Set(roles.map((r) => property(r, 'id')?.text)).size !== roles.length) problems.push('app role ids are not distinct');
  return problems;
}

/** Where a secret could come from: a client secret, password or key credential, or no federated credential. */
function secretProblems(fs: BicepFile[]): string[] {
  const problems: string[] = [];
  for (const f of fs) {
    for (const key of descendantsOfType(f.root, 'object_property').map(propertyKey)) {
      if (key !== undefined && /^(clientSecret|clientSecretCertificateThumbprint|passwordCredentials|keyCredentials)$/.test(key)) problems.push(`${f.rel}: ${key}`);
    }
  }
  const auth = file(fs, 'infra/app/auth.bicep');
  const registration = property(resources(auth).find((r) => stringValue(property(r.body, 'name')) === 'authsettingsV2')?.body, 'properties', 'identityProviders', 'azureActiveDirectory', 'registration');
  if (stringValue(property(registration, 'clientSecretSettingName')) !== FIC_SETTING) problems.push(`clientSecretSettingName is not ${FIC_SETTING}`);
  // The setting holds the sign-in identity's client id (an id, not a secret) ...
  const api = file(fs, 'infra/app/api.bicep');
  const settings = resources(api).find((r) => stringValue(property(r.body, 'name')) === 'appsettings');
  if (property(settings?.body, 'properties', FIC_SETTING)?.text !== 'signInIdentity.properties.clientId') problems.push(`${FIC_SETTING} is not the sign-in identity's client id`);
  if (!(property(resources(api).find((r) => r.type === 'Microsoft.Web/sites' && !r.existing)?.body, 'identity', 'userAssignedIdentities')?.text ?? '').includes('signInIdentity.id')) problems.push('the sign-in identity is not assigned to the function app');
  // ... which the app registration trusts, and nothing else does.
  const entra = file(fs, 'infra/app/entra-app.bicep');
  const fic = resources(entra).filter((r) => r.type === 'Microsoft.Graph/applications/federatedIdentityCredentials');
  if (fic.length !== 1) problems.push('expected one federated identity credential on the application');
  const body = fic[0]?.body;
  if (property(body, 'subject')?.text !== 'signInIdentityPrincipalId') problems.push('the federated credential\'s subject is not the sign-in identity');
  if (moduleParam(fs, 'app/entra-app.bicep', 'signInIdentityPrincipalId') !== 'signInIdentity.outputs.principalId') problems.push('main.bicep does not pass the sign-in identity\'s principal id');
  if (!(property(body, 'audiences')?.text ?? '').includes("'api://AzureADTokenExchange'")) problems.push('the federated credential\'s audience is not api://AzureADTokenExchange');
  if (!(property(body, 'issuer')?.text ?? '').includes('tenant().tenantId')) problems.push('the federated credential\'s issuer is not this tenant');
  if (moduleParam(fs, 'app/api.bicep', 'signInIdentityName') !== 'signInIdentity.outputs.name') problems.push('the function app is not given the sign-in identity');
  const rbac = modules(file(fs, 'infra/main.bicep')).find((m) => m.source === 'app/rbac.bicep');
  if ((rbac?.body?.text ?? '').includes('signInIdentity')) problems.push('the sign-in identity holds an Azure role');
  return problems;
}

describe('App Service authentication (infra/app/auth.bicep)', () => {
  it('turns on Easy Auth v2 with Microsoft Entra ID, wired to the app registration, letting keyed calls through', () => {
    expect(authSettingsProblems(files)).toEqual([]);
  });

  it('fails when authentication would stop keyed calls, or points at another client id', async () => {
    expect(authSettingsProblems(await mutated('infra/app/auth.bicep', 'requireAuthentication: false', 'requireAuthentication: true'))).toHaveLength(1);
    expect(authSettingsProblems(await mutated('infra/app/auth.bicep', "unauthenticatedClientAction: 'AllowAnonymous'", "unauthenticatedClientAction: 'RedirectToLoginPage'"))).toHaveLength(1);
    expect(authSettingsProblems(await mutated('infra/main.bicep', 'clientId: entraApp.outputs.clientId', "clientId: '00000000-0000-0000-0000-000000000000'"))).toHaveLength(1);
    expect(authSettingsProblems(await mutated('infra/app/auth.bicep', "name: 'authsettingsV2'", "name: 'authsettings'"))).toHaveLength(1);
  });

  it('leaves every anonymous route to code that checks the caller: the page, health (status only), the sign-in probe and the signed-in twins', () => {
    const http = FUNCTIONS.filter((f): f is typeof f & HttpFunctionDefinition => f.trigger === 'http');
    const anonymous = http.filter((f) => f.authLevel === 'anonymous');
    const twins = anonymous.filter((f) => f.name.endsWith('SignedIn'));
    expect(anonymous.map((f) => f.name).filter((n) => !n.endsWith('SignedIn')).sort()).toEqual(['health', 'me', 'web']);
    expect(twins.length).toBeGreaterThanOrEqual(5);
    for (const t of twins) {
      expect(t.route, t.name).toMatch(/^app\/api\//);
      const keyed = http.find((f) => f.name === t.name.replace(/SignedIn$/, ''));
      expect(keyed, t.name).toMatchObject({ authLevel: 'function', route: t.route.slice('app/'.length), methods: t.methods });
    }
    // Every key route people use has a signed-in twin.
    for (const k of http.filter((f) => f.authLevel === 'function' && f.name !== 'healthDetails')) expect(twins.map((t) => t.name), k.name).toContain(`${k.name}SignedIn`);
  });
});

describe('the app registration (infra/app/entra-app.bicep, Microsoft Graph Bicep extension)', () => {
  it('declares the Reader and Reviewer app roles for users, with the sign-in callback of the function app', () => {
    expect(registrationProblems(files)).toEqual([]);
  });

  it('fails on a missing role, a wrong redirect or an unwired client id', async () => {
    expect(registrationProblems(await mutated('infra/app/entra-app.bicep', "value: 'Reviewer'", "value: 'Editor'"))).toHaveLength(1);
    expect(registrationProblems(await mutated('infra/app/entra-app.bicep', "'${appUri}/.auth/login/aad/callback'", "'${appUri}/callback'"))).toHaveLength(1);
    expect(registrationProblems(await mutated('infra/app/entra-app.bicep', 'output clientId string = app.appId', 'output clientId string = app.id'))).toHaveLength(1);
  });

  it('has the extension declared in bicepconfig.json, and gives the deploying user the Reviewer role', () => {
    const config = JSON.parse(readFileSync(path.join(repoRoot, 'infra', 'bicepconfig.json'), 'utf8')) as { extensions?: Record<string, string> };
    expect(config.extensions?.['microsoftGraphV1']).toMatch(/^br:mcr\.microsoft\.com\/bicep\/extensions\/microsoftgraph\/v1\.0:\d+\.\d+\.\d+$/);
    const f = file(files, 'infra/app/entra-app.bicep');
    const assignment = resources(f).find((r) => r.type === 'Microsoft.Graph/appRoleAssignedTo');
    expect(property(assignment?.body, 'appRoleId')?.text).toBe('reviewerRoleId');
    expect(property(assignment?.body, 'principalId')?.text).toBe('reviewerPrincipalId');
    expect(assignment?.condition?.text).toContain('!empty(reviewerPrincipalId)');
    expect(moduleParam(files, 'app/entra-app.bicep', 'reviewerPrincipalId')).toBe('principalId');
    expect(parameters(f).find((p) => p.name === 'reviewerPrincipalId')?.defaultValue?.text).toBe("''");
  });
});

describe('no client secret', () => {
  it('signs in with a federated identity credential of a dedicated user-assigned identity, with no secret in any setting', () => {
    expect(secretProblems(files)).toEqual([]);
  });

  it('fails when a client secret or password credential appears, or the credential trusts another subject', async () => {
    expect(secretProblems(await mutated('infra/app/auth.bicep', "clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'", "clientSecretSettingName: 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET'"))).toHaveLength(1);
    expect(secretProblems(await mutated('infra/app/entra-app.bicep', "signInAudience: 'AzureADMyOrg'", "signInAudience: 'AzureADMyOrg'\n  passwordCredentials: []"))).toHaveLength(1);
    expect(secretProblems(await mutated('infra/app/entra-app.bicep', 'subject: signInIdentityPrincipalId', "subject: 'someone-else'"))).toHaveLength(1);
  });
});
