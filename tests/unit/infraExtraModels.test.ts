/**
 * The optional extra models in the Bicep (infra/app/extraModels.bicep): an AI Services account with a
 * Phi-4-multimodal-instruct deployment and an AI Vision account, both off by default, keyless (local auth off, the app
 * identity holds Cognitive Services User and nothing else), their endpoints passed to the app settings the app reads.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../shared/config';
import type { BicepFile } from '../support/bicepTree';
import { callArguments, calledFunction, literal, modules, objectProperties, outputs, parameters, parseBicep, parseBicepDir, property, propertyKey, propertyValue, resources, stringValue, trailingComment, variables } from '../support/bicepTree';

const repoRoot = path.resolve(__dirname, '..', '..');
const REL = 'infra/app/extraModels.bicep';
const COGNITIVE_SERVICES_USER = 'a97b65f3-24c7-4388-baec-2e87135dc908';

let files: BicepFile[] = [];
beforeAll(async () => {
  files = await parseBicepDir(repoRoot, 'infra');
});

function file(rel: string, fs: BicepFile[] = files): BicepFile {
  const f = fs.find((x) => x.rel === rel);
  if (f === undefined) throw new Error(`${rel} was not found under infra/`);
  return f;
}

async function mutated(from: string, to: string): Promise<BicepFile> {
  const f = file(REL);
  if (!f.source.includes(from)) throw new Error(`${REL} does not contain ${from}`);
  return parseBicep(f.source.replace(from, to), REL);
}

/** Everything wrong with the two accounts and the deployment; empty when right. */
function accountProblems(f: BicepFile): string[] {
  const problems: string[] = [];
  const rs = resources(f).filter((r) => !r.existing);
  const accounts = rs.filter((r) => r.type === 'Microsoft.CognitiveServices/accounts');
  const byKind = (kind: string) => accounts.find((a) => stringValue(property(a.body, 'kind')) === kind);
  for (const [kind, flag] of [['AIServices', 'deployFoundry'], ['ComputerVision', 'deployVision']] as const) {
    const a = byKind(kind);
    if (a === undefined) {
      problems.push(`no ${kind} account`);
      continue;
    }
    if (a.condition?.text !== `(${flag})`) problems.push(`${kind} account is not conditional on ${flag}, is ${a.condition?.text ?? 'unconditional'}`);
    if (property(a.body, 'properties', 'disableLocalAuth')?.text !== 'true') problems.push(`${kind} account accepts keys (disableLocalAuth is not true)`);
    // Entra ID tokens need the account's own subdomain.
    if (property(a.body, 'properties', 'customSubDomainName')?.text !== property(a.body, 'name')?.text) problems.push(`${kind} account has no custom subdomain of its name`);
  }
  const deployments = rs.filter((r) => r.type === 'Microsoft.CognitiveServices/accounts/deployments');
  const phi = deployments[0];
  if (deployments.length !== 1 || phi === undefined) return [...problems, `expected one model deployment, found ${deployments.length}`];
  if (property(phi.body, 'parent')?.text !== byKind('AIServices')?.symbol) problems.push('the model deployment is not on the AI Services account');
  if (phi.condition?.text !== '(deployFoundry)') problems.push('the model deployment is not conditional on deployFoundry');
  if (stringValue(property(phi.body, 'properties', 'model', 'format')) !== 'Microsoft') problems.push('the model format is not Microsoft');
  return problems;
}

/** Role assignments of the file as "principal (if condition) → scope: role", and whatever is malformed about each. */
function assignments(f: BicepFile): { lines: string[]; problems: string[] } {
  const roleIds = new Map<string, string>();
  const problems: string[] = [];
  for (const p of objectProperties(variables(f).get('roles'))) {
    const key = propertyKey(p);
    const guid = stringValue(propertyValue(p));
    if (key === undefined || guid === undefined) continue;
    if (guid !== COGNITIVE_SERVICES_USER) problems.push(`roles.${key} is ${guid}, not Cognitive Services User`);
    else if (trailingComment(p) !== 'Cognitive Services User') problems.push(`roles.${key}: the comment says ${JSON.stringify(trailingComment(p))}`);
    roleIds.set(key, guid);
  }
  const rs = resources(f);
  const lines: string[] = [];
  for (const r of rs.filter((x) => x.type === 'Microsoft.Authorization/roleAssignments')) {
    const props = property(r.body, 'properties');
    const principal = property(props, 'principalId')?.text ?? '?';
    const def = property(props, 'roleDefinitionId');
    const [kind, ref] = def?.type === 'call_expression' && calledFunction(def) === 'subscriptionResourceId' ? callArguments(def) : [];
    if (stringValue(kind) !== 'Microsoft.Authorization/roleDefinitions' || ref?.text.startsWith('roles.') !== true || !roleIds.has(ref.text.slice(6))) problems.push(`${r.symbol}: roleDefinitionId must be subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.<allowed>)`);
    const scope = property(r.body, 'scope')?.text ?? '?';
    const target = rs.find((x) => x.symbol === scope && !x.existing);
    if (target === undefined) problems.push(`${r.symbol}: scope must be an account declared here, is ${scope}`);
    // Created only with the account it is scoped to.
    else if (!(r.condition?.text ?? '').includes(target.condition?.text.replace(/^\(|\)$/g, '') ?? '<none>')) problems.push(`${r.symbol}: not conditional on its account (${target.condition?.text ?? 'none'})`);
    const name = property(r.body, 'name');
    const args = name?.type === 'call_expression' && calledFunction(name) === 'guid' ? callArguments(name).map((a) => a.text) : [];
    if (args.join(', ') !== `${scope}.id, ${principal}, ${ref?.text ?? '?'}`) problems.push(`${r.symbol}: name must be guid(${scope}.id, ${principal}, ${ref?.text ?? '?'}), is ${name?.text ?? 'unset'}`);
    const condition = r.condition === null ? '' : ` (if ${r.condition.text.replace(/^\(|\)$/g, '')})`;
    lines.push(`${principal}${condition} → ${scope}: ${ref?.text === undefined ? '?' : ref.text}`);
  }
  return { lines: lines.sort(), problems };
}

describe('infra/app/extraModels.bicep', () => {
  it('declares an AI Services account with a Phi-4-multimodal-instruct deployment and an AI Vision account, keyless', async () => {
    expect(accountProblems(file(REL))).toEqual([]);
    expect(accountProblems(await mutated("kind: 'ComputerVision'\n  sku: {\n    name: 'S1'\n  }\n  properties: {\n    customSubDomainName: visionAccountName\n    disableLocalAuth: true", "kind: 'ComputerVision'\n  sku: {\n    name: 'S1'\n  }\n  properties: {\n    customSubDomainName: visionAccountName\n    disableLocalAuth: false"))).toEqual(['ComputerVision account accepts keys (disableLocalAuth is not true)']);
    expect(accountProblems(await mutated("resource phi 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = if (deployFoundry) {", "resource phi 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {"))).toEqual(['the model deployment is not conditional on deployFoundry']);
  });

  it('grants the app identity (and the optional user) Cognitive Services User on each account, only with that account', async () => {
    const { lines, problems } = assignments(file(REL));
    expect(problems).toEqual([]);
    expect(lines).toEqual(
      [
        'appPrincipalId (if deployFoundry) → foundry: roles.cognitiveServicesUser',
        'appPrincipalId (if deployVision) → vision: roles.cognitiveServicesUser',
        'userPrincipalId (if deployFoundry && withUser) → foundry: roles.cognitiveServicesUser',
        'userPrincipalId (if deployVision && withUser) → vision: roles.cognitiveServicesUser',
      ].sort(),
    );
    // A broader role slipped into the allow-list (Cognitive Services Contributor) is caught.
    const broader = assignments(await mutated(`'${COGNITIVE_SERVICES_USER}' // Cognitive Services User`, "'25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68' // Cognitive Services Contributor"));
    expect(broader.problems).toEqual([expect.stringContaining('not Cognitive Services User')]);
    const unconditional = assignments(await mutated("resource appVision 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployVision) {", "resource appVision 'Microsoft.Authorization/roleAssignments@2022-04-01' = {"));
    expect(unconditional.problems).toEqual([expect.stringContaining('appVision: not conditional on its account')]);
  });
});

describe('main.bicep and api.bicep', () => {
  it('deploys the module off by default, with the app identity, Phi-4-multimodal-instruct on GlobalStandard', () => {
    const main = file('infra/main.bicep');
    const params = new Map(parameters(main).map((p) => [p.name, p.defaultValue === null ? undefined : literal(p.defaultValue)]));
    expect(params.get('deployFoundry')).toBe(false);
    expect(params.get('deployVision')).toBe(false);
    expect(params.get('foundryDeploymentName')).toBe('Phi-4-multimodal-instruct');
    expect(params.get('foundrySkuName')).toBe('GlobalStandard');
    const mod = modules(main).find((m) => m.source === 'app/extraModels.bicep');
    expect(mod, 'main.bicep deploys app/extraModels.bicep').toBeDefined();
    const param = (k: string): string | undefined => property(mod?.body, 'params', k)?.text;
    expect([param('deployFoundry'), param('deployVision'), param('appPrincipalId'), param('foundryModelName')]).toEqual(['deployFoundry', 'deployVision', 'identity.outputs.principalId', "'Phi-4-multimodal-instruct'"]);
    const api = modules(main).find((m) => m.source === 'app/api.bicep');
    expect(['foundryEndpoint', 'foundryDeploymentName', 'visionEndpoint'].map((k) => property(api?.body, 'params', k)?.text)).toEqual([`${mod?.symbol}.outputs.foundryEndpoint`, `${mod?.symbol}.outputs.foundryDeploymentName`, `${mod?.symbol}.outputs.visionEndpoint`]);
    // azd reads the switches from the environment (azd env set DEPLOY_FOUNDRY true).
    const json = JSON.parse(readFileSync(path.join(repoRoot, 'infra', 'main.parameters.json'), 'utf8')) as { parameters: Record<string, { value: unknown }> };
    expect(json.parameters['deployFoundry']?.value).toBe('${DEPLOY_FOUNDRY=false}');
    expect(json.parameters['deployVision']?.value).toBe('${DEPLOY_VISION=false}');
  });

  it('sets FOUNDRY_ENDPOINT, FOUNDRY_MODEL and VISION_ENDPOINT (no key), which the app reads as the extra providers', () => {
    const settings = resources(file('infra/app/api.bicep')).find((r) => r.type === 'Microsoft.Web/sites/config' && stringValue(property(r.body, 'name')) === 'appsettings');
    const setting = (k: string): string | undefined => objectProperties(property(settings?.body, 'properties')).find((p) => propertyKey(p) === k)?.text;
    expect([setting('FOUNDRY_ENDPOINT'), setting('FOUNDRY_MODEL'), setting('VISION_ENDPOINT')]).toEqual(['FOUNDRY_ENDPOINT: foundryEndpoint', 'FOUNDRY_MODEL: foundryDeploymentName', 'VISION_ENDPOINT: visionEndpoint']);
    expect([setting('FOUNDRY_API_KEY'), setting('VISION_API_KEY')]).toEqual([undefined, undefined]);

    // The module's outputs, as the app receives them: off (empty) is no provider; on is the endpoint of each.
    const out = new Map(outputs(file(REL)).map((o) => [o.name, o.value?.text]));
    expect(out.get('foundryEndpoint')).toBe("deployFoundry ? 'https://${foundryAccountName}.services.ai.azure.com' : ''");
    const base = { AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net', COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/', MODEL_PROVIDER: 'azure-openai', AZURE_OPENAI_ENDPOINT: 'https://oai.openai.azure.com/', AZURE_OPENAI_DEPLOYMENT: 'gpt-4o' };
    const off = loadConfig({ ...base, FOUNDRY_ENDPOINT: '', FOUNDRY_MODEL: '', VISION_ENDPOINT: '' }).providerEndpoints;
    expect([off?.['azure-ai-foundry'], off?.['azure-ai-vision']]).toEqual([undefined, undefined]);
    const on = loadConfig({ ...base, FOUNDRY_ENDPOINT: 'https://cog-fdy-abc.services.ai.azure.com', FOUNDRY_MODEL: 'Phi-4-multimodal-instruct', VISION_ENDPOINT: 'https://cog-cv-abc.cognitiveservices.azure.com/' }).providerEndpoints;
    expect(on?.['azure-ai-foundry']).toEqual({ endpoint: 'https://cog-fdy-abc.services.ai.azure.com', apiVersion: '2025-04-01', apiKey: undefined, deployment: 'Phi-4-multimodal-instruct' });
    expect(on?.['azure-ai-vision']).toEqual({ endpoint: 'https://cog-cv-abc.cognitiveservices.azure.com', apiKey: undefined, apiVersion: '2023-10-01', usdPer1000: undefined });
  });
});
