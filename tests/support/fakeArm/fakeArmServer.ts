/**
 * A fake of Azure Resource Manager's Cognitive Services deployments (Deployments - Create Or Update / Get,
 * learn.microsoft.com/rest/api/aiservices/accountmanagement/deployments): `PUT|GET /subscriptions/{s}/resourceGroups/{rg}
 * /providers/Microsoft.CognitiveServices/accounts/{a}/deployments/{d}?api-version=...`, bearer token required, 201
 * with `provisioningState: Creating` on a new deployment, 200 on an update, then `Succeeded` after a number of looks.
 * It refuses what ARM refuses: no or a wrong token (401 AuthenticationFailed), an api-version ARM does not publish for
 * the resource type (400 InvalidApiVersionParameter), an unknown account (404 ResourceNotFound), a body without a model
 * or with a model the account does not have (400), a capacity below 1. Binds 127.0.0.1 on a free port; never a default.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** GA api-versions of Microsoft.CognitiveServices/accounts/deployments on the REST reference pages. */
const API_VERSIONS = new Set(['2023-05-01', '2024-10-01', '2025-06-01']);
const SKUS = new Set(['Standard', 'GlobalStandard', 'DeveloperTier', 'DataZoneStandard', 'ProvisionedManaged', 'GlobalProvisionedManaged']);

export interface FakeArmOptions {
  token?: string;
  /** Accounts as `subscription/resourceGroup/account`. */
  accounts: string[];
  /** Models the accounts can deploy (fine-tuned model ids). */
  models: () => readonly string[];
  /** GETs answering `Creating` before `Succeeded`; default 1. */
  creatingPolls?: number;
  /** Deployments that end `Failed` instead. */
  failDeployments?: string[];
}

export interface FakeArmRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
}

export interface FakeArm {
  readonly url: string;
  readonly token: string;
  readonly requests: FakeArmRequest[];
  deployments(): { key: string; model: string; sku: string; capacity: number; state: string }[];
  close(): Promise<void>;
}

export async function startFakeArm(options: FakeArmOptions): Promise<FakeArm> {
  const token = options.token ?? 'arm-test-token';
  const requests: FakeArmRequest[] = [];
  const deployments = new Map<string, { model: string; sku: string; capacity: number; looks: number; state: string }>();

  function answer(res: ServerResponse, record: FakeArmRequest, status: number, body: unknown): void {
    record.status = status;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'x-ms-request-id': `req-${requests.length}` });
    res.end(text);
  }
  const armError = (code: string, message: string): unknown => ({ error: { code, message } });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = raw;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      // kept as text; refused below for PUT
    }
    const record: FakeArmRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), body, status: 0 };
    requests.push(record);

    if (req.headers.authorization !== `Bearer ${token}`) {
      answer(res, record, 401, armError(req.headers.authorization === undefined ? 'AuthenticationFailed' : 'InvalidAuthenticationToken', 'Authentication failed. The Authorization header is missing or the token is invalid.'));
      return;
    }
    const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.CognitiveServices\/accounts\/([^/]+)\/deployments\/([^/]+)$/i.exec(url.pathname);
    if (m === null) {
      answer(res, record, 404, armError('InvalidResourceType', `The resource type could not be found for ${url.pathname}.`));
      return;
    }
    const version = url.searchParams.get('api-version');
    if (version === null) {
      answer(res, record, 400, armError('MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests."));
      return;
    }
    if (!API_VERSIONS.has(version)) {
      answer(res, record, 400, armError('InvalidApiVersionParameter', `The api-version '${version}' is invalid. The supported versions are '${[...API_VERSIONS].join(',')}'.`));
      return;
    }
    const account = `${decodeURIComponent(m[1] ?? '')}/${decodeURIComponent(m[2] ?? '')}/${decodeURIComponent(m[3] ?? '')}`;
    if (!options.accounts.includes(account)) {
      answer(res, record, 404, armError('ResourceNotFound', `The Resource 'Microsoft.CognitiveServices/accounts/${m[3] ?? ''}' under resource group '${m[2] ?? ''}' was not found.`));
      return;
    }
    const name = decodeURIComponent(m[4] ?? '');
    const key = `${account}/${name}`;
    const view = (d: { model: string; sku: string; capacity: number; state: string }): unknown => ({
      id: url.pathname,
      name,
      type: 'Microsoft.CognitiveServices/accounts/deployments',
      sku: { name: d.sku, capacity: d.capacity },
      properties: { model: { format: 'OpenAI', name: d.model, version: '1' }, provisioningState: d.state },
    });

    if (req.method === 'GET') {
      const d = deployments.get(key);
      if (d === undefined) {
        answer(res, record, 404, armError('DeploymentNotFound', `Deployment '${name}' not found.`));
        return;
      }
      if (d.state === 'Creating' && ++d.looks > (options.creatingPolls ?? 1)) d.state = options.failDeployments?.includes(name) === true ? 'Failed' : 'Succeeded';
      answer(res, record, 200, view(d));
      return;
    }
    if (req.method !== 'PUT') {
      answer(res, record, 405, armError('MethodNotAllowed', `${req.method ?? ''} is not supported here.`));
      return;
    }
    const b = body as { sku?: { name?: unknown; capacity?: unknown }; properties?: { model?: { format?: unknown; name?: unknown; version?: unknown } } } | undefined;
    const model = b?.properties?.model;
    if (typeof b !== 'object' || model === undefined || typeof model.name !== 'string' || model.format !== 'OpenAI') {
      answer(res, record, 400, armError('InvalidRequestContent', 'The request content must have properties.model with format "OpenAI", name and version.'));
      return;
    }
    if (!options.models().includes(model.name)) {
      answer(res, record, 400, armError('DeploymentModelNotSupported', `The model '${model.name}' is not available on this account.`));
      return;
    }
    const sku = b.sku?.name;
    const capacity = b.sku?.capacity ?? 1;
    if (typeof sku !== 'string' || !SKUS.has(sku)) {
      answer(res, record, 400, armError('InvalidResourceProperties', `The specified SKU '${String(sku)}' for model deployment is not supported.`));
      return;
    }
    if (!Number.isInteger(capacity) || (capacity as number) < 1) {
      answer(res, record, 400, armError('InvalidCapacity', 'The capacity should be a positive integer.'));
      return;
    }
    const existed = deployments.has(key);
    const d = { model: model.name, sku, capacity: capacity as number, looks: 0, state: 'Creating' };
    deployments.set(key, d);
    answer(res, record, existed ? 200 : 201, view(d));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    deployments: () => [...deployments.entries()].map(([key, d]) => ({ key, model: d.model, sku: d.sku, capacity: d.capacity, state: d.state })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
