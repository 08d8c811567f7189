/**
 * The deployment of a fine-tuned model: the `az cognitiveservices account deployment create` command and the ARM REST
 * PUT it corresponds to, and that PUT run keyless (a DefaultAzureCredential token for Azure Resource Manager).
 *
 * Sources: learn.microsoft.com/rest/api/aiservices/accountmanagement/deployments/create-or-update (PUT
 * .../providers/Microsoft.CognitiveServices/accounts/{account}/deployments/{deployment}, GA api-version 2024-10-01,
 * 200 or 201 with the Deployment; 2025-06-01 is newer, 2023-05-01 older); the fine-tuning "deploy" how-to's REST sample
 * (sku `standard` capacity 1, model format `OpenAI`, the fine-tuned model id as name, version `1`); the fine-tune-test
 * page for the Developer tier (no hourly hosting fee, 24-hour lifetime, no SLA). The Developer tier's SKU name
 * `DeveloperTier` is as the portal's ARM calls spell it (not read in a published spec here: unverified).
 */
import type { TokenCredential } from '@azure/identity';

export const ARM_API_VERSION = '2024-10-01';
export const ARM_SCOPE = 'https://management.azure.com/.default';
export const DEPLOYMENT_SKUS = ['Standard', 'GlobalStandard', 'DeveloperTier'] as const;
export type DeploymentSku = (typeof DEPLOYMENT_SKUS)[number];

export interface AccountRef {
  subscription: string;
  resourceGroup: string;
  account: string;
}

export interface DeploymentPlan {
  account: AccountRef;
  deployment: string;
  model: string;
  sku: DeploymentSku;
  capacity: number;
  /** Path below the ARM base URL, with api-version. */
  path: string;
  body: { sku: { name: string; capacity: number }; properties: { model: { format: 'OpenAI'; name: string; version: string } } };
  azCommand: string;
}

/** `/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>`, checked before it is believed. */
export function parseAccountId(id: string): AccountRef | undefined {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.CognitiveServices\/accounts\/([a-zA-Z0-9][a-zA-Z0-9_.-]{1,63})\/?$/i.exec(id.trim());
  if (m === null) return undefined;
  return { subscription: m[1] as string, resourceGroup: m[2] as string, account: m[3] as string };
}

const PLACEHOLDER: AccountRef = { subscription: '<subscription-id>', resourceGroup: '<resource-group>', account: '<openai-account>' };

export function planDeployment(r: { account: AccountRef | undefined; deployment: string; model: string; sku: DeploymentSku; capacity: number }): DeploymentPlan {
  const a = r.account ?? PLACEHOLDER;
  // Placeholders are printed for a person to fill in, not percent-encoded.
  const seg = r.account === undefined ? (s: string) => s : encodeURIComponent;
  const path = `/subscriptions/${seg(a.subscription)}/resourceGroups/${seg(a.resourceGroup)}/providers/Microsoft.CognitiveServices/accounts/${seg(a.account)}/deployments/${encodeURIComponent(r.deployment)}?api-version=${ARM_API_VERSION}`;
  const azCommand = [
    'az cognitiveservices account deployment create',
    `--subscription ${shellQuote(a.subscription)}`,
    `--resource-group ${shellQuote(a.resourceGroup)}`,
    `--name ${shellQuote(a.account)}`,
    `--deployment-name ${shellQuote(r.deployment)}`,
    `--model-name ${shellQuote(r.model)}`,
    '--model-version 1',
    '--model-format OpenAI',
    `--sku-name ${r.sku}`,
    `--sku-capacity ${r.capacity}`,
  ].join(' \\\n  ');
  return { account: a, deployment: r.deployment, model: r.model, sku: r.sku, capacity: r.capacity, path, body: { sku: { name: r.sku, capacity: r.capacity }, properties: { model: { format: 'OpenAI', name: r.model, version: '1' } } }, azCommand };
}

export interface ArmDeployOptions {
  /** `https://management.azure.com` unless told otherwise (tests point it at their fake). */
  baseUrl: string;
  credential: TokenCredential;
  fetch?: typeof fetch;
  pollMs: number;
  /** Upper bound on looks at the deployment while it provisions. */
  maxPolls: number;
  sleep?: (ms: number) => Promise<void>;
  onState?: (state: string) => void;
}

export interface ArmDeployResult {
  status: number;
  provisioningState: string;
}

export class ArmError extends Error {
  override readonly name = 'ArmError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** PUT, then GET until `provisioningState` is Succeeded (or Failed / Canceled), bounded by maxPolls. */
export async function deployWithArm(plan: DeploymentPlan, o: ArmDeployOptions): Promise<ArmDeployResult> {
  const doFetch = o.fetch ?? globalThis.fetch;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const url = `${o.baseUrl.replace(/\/+$/, '')}${plan.path}`;
  const headers = async (): Promise<Record<string, string>> => {
    const token = await o.credential.getToken(ARM_SCOPE);
    if (token === null) throw new ArmError(401, 'NoToken', `No Azure Resource Manager token for ${ARM_SCOPE}: sign in with \`az login\` or give the app an identity.`);
    return { authorization: `Bearer ${token.token}`, 'content-type': 'application/json' };
  };
  const put = await doFetch(url, { method: 'PUT', headers: await headers(), body: JSON.stringify(plan.body) });
  let body = await readArm(put);
  const status = put.status;
  let state = provisioningState(body);
  o.onState?.(state);
  for (let i = 0; i < o.maxPolls && !['Succeeded', 'Failed', 'Canceled'].includes(state); i++) {
    await sleep(o.pollMs);
    body = await readArm(await doFetch(url, { method: 'GET', headers: await headers() }));
    const next = provisioningState(body);
    if (next !== state) o.onState?.(next);
    state = next;
  }
  return { status, provisioningState: state };
}

async function readArm(res: Response): Promise<unknown> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? {} : JSON.parse(text);
  } catch {
    body = { raw: text };
  }
  if (!res.ok) {
    const error = (body as { error?: { code?: string; message?: string } }).error;
    throw new ArmError(res.status, error?.code ?? `HTTP${res.status}`, error?.message ?? text.slice(0, 300));
  }
  return body;
}

function provisioningState(body: unknown): string {
  const s = (body as { properties?: { provisioningState?: unknown } }).properties?.provisioningState;
  return typeof s === 'string' ? s : 'Unknown';
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_.:/=@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
