/**
 * Quota pacing and load levelling in infra/, checked on the syntax tree: the parking queue and the role that lets
 * the app identity use it, the settings the app reads for pacing (same names as loadThroughputConfig), per-instance
 * concurrency, and a maximum instance count derived from the GPT-4o capacity. Each check also runs on a broken copy.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { loadThroughputConfig } from '../../shared/throughput/loadThroughputConfig';
import type { BicepFile } from '../support/bicepTree';
import { modules, objectProperties, parseBicep, parseBicepDir, property, propertyKey, propertyValue, resources, syntaxProblems } from '../support/bicepTree';

const repoRoot = path.resolve(__dirname, '..', '..');
const QUEUE_CONTRIBUTOR = '974c5e8b-45b9-4653-ba55-5f855dd0fb88';

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

/** Problems with the parking queue and its role, empty when right. */
function queueProblems(fs: BicepFile[]): string[] {
  const problems: string[] = [];
  const storage = file(fs, 'infra/app/storage.bicep');
  if (!resources(storage).some((r) => r.type === 'Microsoft.Storage/storageAccounts/queueServices/queues')) problems.push('no queue resource');
  const rbac = file(fs, 'infra/app/rbac.bicep');
  const role = resources(rbac).find((r) => r.symbol === 'appQueues');
  if (role === undefined) problems.push('no role assignment');
  else {
    if (!(property(role.body, 'properties', 'roleDefinitionId')?.text ?? '').includes('storageQueueDataContributor') || !rbac.source.includes(`storageQueueDataContributor: '${QUEUE_CONTRIBUTOR}'`)) problems.push('not Storage Queue Data Contributor');
    if (property(role.body, 'properties', 'principalId')?.text !== 'appPrincipalId') problems.push('role not for the app identity');
  }
  const main = file(fs, 'infra/main.bicep');
  const call = modules(main).find((m) => m.source === 'app/storage.bicep');
  if (!(property(property(call?.body, 'params'), 'queueNames')?.text ?? '').includes('parkingQueueName')) problems.push('PARKING_QUEUE not created');
  return problems;
}

function appSettings(fs: BicepFile[]): Map<string, string> {
  const api = file(fs, 'infra/app/api.bicep');
  const r = resources(api).find((x) => x.type === 'Microsoft.Web/sites/config');
  return new Map(objectProperties(property(r?.body, 'properties')).map((p) => [propertyKey(p) ?? '', propertyValue(p)?.text ?? '']));
}

/** What main.bicep passes the app as its maximum instance count, with `quotaInstanceCount` spelled out. */
function maxInstancesPassed(fs: BicepFile[]): string {
  const main = file(fs, 'infra/main.bicep');
  const call = modules(main).find((m) => m.source === 'app/api.bicep');
  const passed = property(property(call?.body, 'params'), 'maximumInstanceCount')?.text ?? '';
  const derived = /var quotaInstanceCount = (.*)/.exec(main.source)?.[1] ?? '';
  return passed.replace('quotaInstanceCount', `(${derived})`);
}

describe('infra for throughput at the quota', () => {
  it('parses without syntax errors', () => {
    for (const rel of ['infra/main.bicep', 'infra/app/api.bicep', 'infra/app/storage.bicep']) expect(syntaxProblems(file(files, rel).root), rel).toEqual([]);
  });

  it('creates PARKING_QUEUE and gives the app identity Storage Queue Data Contributor on it', async () => {
    expect(queueProblems(files)).toEqual([]);
    expect(queueProblems(await mutated('infra/app/rbac.bicep', `storageQueueDataContributor: '${QUEUE_CONTRIBUTOR}'`, "storageQueueDataContributor: '19e7f393-937e-4f77-808e-94535e297925'"))).toContain('not Storage Queue Data Contributor');
    expect(queueProblems(await mutated('infra/main.bicep', 'queueNames: [\n      parkingQueueName\n    ]', 'queueNames: []'))).toContain('PARKING_QUEUE not created');
  });

  it('sets the pacing settings the app reads, with values loadThroughputConfig accepts, and the queue endpoint for the identity connection', () => {
    const s = appSettings(files);
    for (const name of ['MODEL_TPM', 'MAX_INSTANCES', 'PARKING_QUEUE', 'AzureWebJobsStorage__queueServiceUri']) expect(s.has(name), name).toBe(true);
    expect(s.get('MODEL_TPM')).toBe('string(modelTpm)');
    expect(s.get('MAX_INSTANCES')).toBe('string(maximumInstanceCount)');
    // The names are the app's: a deployment with these values configures pacing without issues.
    const issues: string[] = [];
    const t = loadThroughputConfig({ MODEL_TPM: '30000', MAX_INSTANCES: '1', PARKING_QUEUE: 'parked-events' }, issues);
    expect(issues).toEqual([]);
    expect(t).toMatchObject({ tokensPerMinute: 30_000, maxInstances: 1, parkingQueue: 'parked-events' });
    const main = file(files, 'infra/main.bicep');
    const call = modules(main).find((m) => m.source === 'app/api.bicep');
    expect(property(property(call?.body, 'params'), 'modelTpm')?.text).toBe('gpt4oCapacity * 1000');
  });

  it('bounds per-instance concurrency and derives the maximum instance count from the GPT-4o capacity', async () => {
    const api = file(files, 'infra/app/api.bicep');
    const site = resources(api).find((r) => r.type === 'Microsoft.Web/sites' && !r.existing);
    const scale = property(site?.body, 'properties', 'functionAppConfig', 'scaleAndConcurrency');
    expect(property(scale, 'triggers', 'http', 'perInstanceConcurrency')?.text).toBe('perInstanceConcurrency');
    const derived = (fs: BicepFile[]): boolean => /gpt4oCapacity/.test(maxInstancesPassed(fs)) && /perInstanceConcurrency/.test(maxInstancesPassed(fs));
    expect(derived(files)).toBe(true);
    expect(derived(await mutated('infra/main.bicep', 'maximumInstanceCount: min(maximumInstanceCount, quotaInstanceCount)', 'maximumInstanceCount: maximumInstanceCount'))).toBe(false);
    // The formula as documented: 30K TPM → 1 instance, 450K → 5 (16 events per instance).
    const formula = /var quotaInstanceCount = max\(1, \((.*)\)$/.exec(file(files, 'infra/main.bicep').source.split('\n').find((l) => l.startsWith('var quotaInstanceCount')) ?? '');
    expect(formula).not.toBeNull();
    const count = (capacity: number, k: number): number => Math.max(1, Math.floor((capacity * 1000 * 2737 * 2 + 600 * 60000 * k - 1) / (600 * 60000 * k)));
    expect([count(30, 16), count(450, 16)]).toEqual([1, 5]);
  });

  it('bounds the queue drain per instance in host.json and sends poison messages aside after a few tries', () => {
    const host = JSON.parse(readFileSync(path.join(repoRoot, 'host.json'), 'utf8')) as { extensions?: { queues?: Record<string, unknown> } };
    const q = host.extensions?.queues ?? {};
    expect(q['batchSize']).toBeTypeOf('number');
    expect(q['newBatchThreshold']).toBeTypeOf('number');
    expect(q['maxDequeueCount']).toBeTypeOf('number');
  });
});
