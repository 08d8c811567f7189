/** The Bicep for outbound events and cache retention: the custom topic, its keyless sender role, the app settings, TTL. */
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import type { BicepFile } from '../support/bicepTree';
import { literal, modules, objectProperties, outputs, parseBicep, parseBicepDir, property, propertyKey, resources, stringValue } from '../support/bicepTree';

const repoRoot = path.resolve(__dirname, '..', '..');
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

/** Everything wrong with the outbound wiring; empty when right. */
function outboundProblems(fs: BicepFile[]): string[] {
  const problems: string[] = [];
  const topics = resources(file(fs, 'infra/app/outbound.bicep')).filter((r) => r.type === 'Microsoft.EventGrid/topics' && !r.existing);
  if (topics.length !== 1) return ['outbound.bicep: expected one Microsoft.EventGrid/topics'];
  const topic = topics[0]?.body;
  if (stringValue(property(topic, 'properties', 'inputSchema')) !== 'CloudEventSchemaV1_0') problems.push('the topic does not take CloudEvents 1.0');
  if (property(topic, 'properties', 'disableLocalAuth')?.text !== 'true') problems.push('the topic accepts access keys (disableLocalAuth is not true)');
  if (outputs(file(fs, 'infra/app/outbound.bicep')).find((o) => o.name === 'endpoint')?.value?.text !== 'topic.properties.endpoint') problems.push('outbound.bicep does not output the topic endpoint');

  const main = file(fs, 'infra/main.bicep');
  const mod = modules(main).find((m) => m.source === 'app/outbound.bicep');
  if (mod === undefined) return [...problems, 'main.bicep does not deploy app/outbound.bicep'];
  const api = modules(main).find((m) => m.source === 'app/api.bicep');
  if (property(api?.body, 'params', 'outboundTopicEndpoint')?.text !== `${mod.symbol}.outputs.endpoint`) problems.push('main.bicep does not pass the topic endpoint to api.bicep');
  const rbac = modules(main).find((m) => m.source === 'app/rbac.bicep');
  if (property(rbac?.body, 'params', 'outboundTopicName')?.text !== `${mod.symbol}.outputs.name`) problems.push('main.bicep does not pass the topic name to rbac.bicep');

  const settings = resources(file(fs, 'infra/app/api.bicep')).find((r) => r.type === 'Microsoft.Web/sites/config' && stringValue(property(r.body, 'name')) === 'appsettings');
  const setting = (k: string): string | undefined => objectProperties(property(settings?.body, 'properties')).find((p) => propertyKey(p) === k)?.text;
  if (setting('OUTBOUND_TOPIC_ENDPOINT') !== 'OUTBOUND_TOPIC_ENDPOINT: outboundTopicEndpoint') problems.push('api.bicep does not set OUTBOUND_TOPIC_ENDPOINT from the topic');
  if (setting('CACHE_TTL_DAYS') === undefined) problems.push('api.bicep does not set CACHE_TTL_DAYS');
  if (setting('OUTBOUND_WEBHOOK_SECRET') !== undefined) problems.push('api.bicep puts the webhook secret in an app setting');

  // The app identity may send to this topic, and nothing more.
  const rb = file(fs, 'infra/app/rbac.bicep');
  const rs = resources(rb);
  const topicRef = rs.find((r) => r.type === 'Microsoft.EventGrid/topics' && r.existing);
  if (property(topicRef?.body, 'name')?.text !== 'outboundTopicName') problems.push('rbac.bicep does not reference the topic by outboundTopicName');
  const senders = rs.filter((r) => r.type === 'Microsoft.Authorization/roleAssignments' && property(r.body, 'scope')?.text === topicRef?.symbol);
  if (senders.length !== 1) problems.push(`expected one role assignment on the topic, found ${senders.length}`);
  const sender = senders[0]?.body;
  if (property(sender, 'properties', 'principalId')?.text !== 'appPrincipalId') problems.push('the topic role is not the app identity’s');
  if (!(property(sender, 'properties', 'roleDefinitionId')?.text ?? '').includes('roles.eventGridDataSender')) problems.push('the topic role is not EventGrid Data Sender');
  return problems;
}

describe('infra: outbound events', () => {
  it('deploys a keyless CloudEvents topic, lets only the app identity send to it, and gives the app its endpoint', () => {
    expect(outboundProblems(files)).toEqual([]);
  });

  it('catches a topic with keys, a missing setting and a broader role', async () => {
    expect(outboundProblems(await mutated('infra/app/outbound.bicep', 'disableLocalAuth: true', 'disableLocalAuth: false'))).toContain('the topic accepts access keys (disableLocalAuth is not true)');
    expect(outboundProblems(await mutated('infra/app/api.bicep', 'OUTBOUND_TOPIC_ENDPOINT: outboundTopicEndpoint', "OUTBOUND_TOPIC_ENDPOINT: ''"))).toContain('api.bicep does not set OUTBOUND_TOPIC_ENDPOINT from the topic');
    expect(outboundProblems(await mutated('infra/app/rbac.bicep', 'roleDefinitionId: subscriptionResourceId(\'Microsoft.Authorization/roleDefinitions\', roles.eventGridDataSender)', "roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)"))).toContain('the topic role is not EventGrid Data Sender');
  });
});

describe('infra: content-cache retention', () => {
  it('turns TTL on for the images container with no default, so only cache entries (per-item ttl) expire', () => {
    const container = resources(file(files, 'infra/app/cosmos.bicep')).find((r) => r.type === 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
    const ttl = property(container?.body, 'properties', 'resource', 'defaultTtl');
    expect(ttl === undefined ? undefined : literal(ttl)).toBe(-1);
  });
});
