/** The operations Bicep on its syntax tree: alert rules and their action group, the workbook, and the optional private network. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';
import type { Node } from 'web-tree-sitter';

import { BUDGET_REACHED_MESSAGE } from '../../shared/budget';
import type { BicepFile } from '../support/bicepTree';
import { literal, modules, parameters, parseBicep, parseBicepDir, property, resources, stringValue, syntaxProblems, variables } from '../support/bicepTree';

const repoRoot = path.resolve(__dirname, '..', '..');
let files: BicepFile[] = [];

beforeAll(async () => {
  files = await parseBicepDir(repoRoot, 'infra');
});

function file(rel: string): BicepFile {
  const f = files.find((x) => x.rel === rel);
  if (f === undefined) throw new Error(`${rel} was not found under infra/`);
  return f;
}

function defaultOf(f: BicepFile, name: string): unknown {
  const d = parameters(f).find((p) => p.name === name)?.defaultValue;
  return d === null || d === undefined ? undefined : literal(d);
}

function moduleParam(moduleSymbol: string, key: string): string | undefined {
  return property(modules(file('infra/main.bicep')).find((m) => m.symbol === moduleSymbol)?.body ?? null, 'params', key)?.text;
}

function arrayItems(node: Node | undefined): Node[] {
  if (node === undefined) return [];
  // `!enabled ? [] : [...]`: the non-empty branch.
  const arrays = node.type === 'array' ? [node] : node.namedChildren.filter((c): c is Node => c?.type === 'array');
  return arrays.flatMap((a) => a.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment'));
}

/** The metric (or log line) each alert rule must query, by rule key. */
const ALERTS: Readonly<Record<string, string>> = {
  'failure-rate': 'blobsight.images',
  'throttled-share': 'blobsight.model.throttled',
  'dead-letters': 'blobsight.deadletters',
  'daily-cost': 'blobsight.cost_usd',
  'budget-reached': 'daily budget reached',
  'review-share': 'blobsight.images',
  'reviewed-accuracy': 'blobsight.reviews',
  'model-latency': 'blobsight.model.latency_ms',
};

/** The threshold parameter each rule's query must use, so the parameter really drives the rule. */
const THRESHOLDS: Readonly<Record<string, string>> = {
  'failure-rate': 'failureRatePercent',
  'throttled-share': 'throttledPercent',
  'dead-letters': 'deadLetterCount',
  'daily-cost': 'dailyCostUsd',
  'review-share': 'reviewSharePercent',
  'reviewed-accuracy': 'reviewedAccuracyPercent',
  'model-latency': 'modelLatencyMs',
};

function alertProblems(f: BicepFile): string[] {
  const problems: string[] = [];
  const rules = arrayItems(variables(f).get('rules'));
  const byKey = new Map(rules.map((r) => [stringValue(property(r, 'key')) ?? '', r]));
  for (const [key, metric] of Object.entries(ALERTS)) {
    const rule = byKey.get(key);
    if (rule === undefined) {
      problems.push(`no alert rule ${key}`);
      continue;
    }
    const query = property(rule, 'query')?.text ?? '';
    if (!query.includes(metric)) problems.push(`${key} does not query ${metric}`);
    const threshold = THRESHOLDS[key];
    if (threshold !== undefined && !query.includes(`\${${threshold}}`)) problems.push(`${key} does not use ${threshold}`);
  }
  const ruleResources = resources(f).filter((r) => r.type === 'Microsoft.Insights/scheduledQueryRules');
  if (ruleResources.length !== 1) problems.push(`expected one scheduledQueryRules loop, found ${ruleResources.length}`);
  for (const r of ruleResources) {
    if (!(r.node.text.includes('for rule in rules'))) problems.push('the rules are not deployed from the rules list');
    if (property(r.body, 'properties', 'scopes')?.text.includes('appInsights.id') !== true) problems.push('a rule is not scoped to Application Insights');
    if (property(r.body, 'properties', 'actions', 'actionGroups')?.text.includes('actionGroup.id') !== true) problems.push('a rule does not notify the action group');
    if (property(r.body, 'properties', 'criteria', 'allOf')?.text.includes('rule.query') !== true) problems.push('a rule does not run its query');
  }
  return problems;
}

describe('alerts (infra/app/alerts.bicep)', () => {
  it('parses', () => {
    expect(syntaxProblems(file('infra/app/alerts.bicep').root)).toEqual([]);
  });

  it('emails the operator through an action group, from a parameter main.bicep passes on', () => {
    const f = file('infra/app/alerts.bicep');
    const group = resources(f).find((r) => r.type === 'Microsoft.Insights/actionGroups' && !r.existing);
    expect(group).toBeDefined();
    expect(stringValue(property(group?.body ?? null, 'location'))).toBe('global');
    const receivers = property(group?.body ?? null, 'properties', 'emailReceivers')?.text ?? '';
    expect(receivers).toContain('emailAddress: alertEmail');
    expect(defaultOf(file('infra/main.bicep'), 'alertEmail')).toBe('');
    expect(moduleParam('alerts', 'alertEmail')).toBe('alertEmail');
    expect(moduleParam('alerts', 'appInsightsName')).toBe('monitoring.outputs.appInsightsName');
  });

  it('has a log-search rule per condition, each over its metric and driven by its threshold parameter', () => {
    expect(alertProblems(file('infra/app/alerts.bicep'))).toEqual([]);
  });

  it('defaults the thresholds to the seed pipeline\'s bars (accuracy 80 %, model latency 5 s) and lets main.bicep set them', () => {
    const f = file('infra/app/alerts.bicep');
    expect(defaultOf(f, 'reviewedAccuracyPercent')).toBe(80);
    expect(defaultOf(f, 'modelLatencyMs')).toBe(5000);
    const main = file('infra/main.bicep');
    expect(defaultOf(main, 'alertReviewedAccuracyPercent')).toBe(80);
    expect(defaultOf(main, 'alertModelLatencyMs')).toBe(5000);
    for (const [alertsParam, mainParam] of [
      ['dailyCostUsd', 'alertDailyCostUsd'],
      ['failureRatePercent', 'alertFailureRatePercent'],
      ['throttledPercent', 'alertThrottledPercent'],
      ['reviewSharePercent', 'alertReviewSharePercent'],
      ['reviewedAccuracyPercent', 'alertReviewedAccuracyPercent'],
      ['modelLatencyMs', 'alertModelLatencyMs'],
    ] as const) {
      expect(moduleParam('alerts', alertsParam), alertsParam).toBe(mainParam);
    }
  });

  it('alerts on the very log line the budget gate writes', () => {
    const rule = arrayItems(variables(file('infra/app/alerts.bicep')).get('rules')).find((r) => stringValue(property(r, 'key')) === 'budget-reached');
    expect(BUDGET_REACHED_MESSAGE).toContain('daily budget reached');
    expect(property(rule ?? null, 'query')?.text).toContain('traces | where message has "daily budget reached"');
  });

  it('fails when a rule is missing or ignores its threshold', async () => {
    const source = file('infra/app/alerts.bicep').source;
    const withoutAccuracy = await parseBicep(source.replace("key: 'reviewed-accuracy'", "key: 'something-else'"));
    expect(alertProblems(withoutAccuracy)).toContain('no alert rule reviewed-accuracy');
    const fixedLatency = await parseBicep(source.replace('p90 > ${modelLatencyMs}', 'p90 > 5000'));
    expect(alertProblems(fixedLatency)).toEqual(['model-latency does not use modelLatencyMs']);
  });
});

describe('workbook (infra/app/workbook.bicep)', () => {
  it('is an Azure Workbook on Application Insights, its panels loaded from workbook.json', () => {
    const f = file('infra/app/workbook.bicep');
    expect(syntaxProblems(f.root)).toEqual([]);
    const wb = resources(f).find((r) => r.type === 'Microsoft.Insights/workbooks');
    expect(property(wb?.body ?? null, 'properties', 'serializedData')?.text).toBe("loadTextContent('workbook.json')");
    expect(property(wb?.body ?? null, 'properties', 'sourceId')?.text).toBe('appInsights.id');
    expect(property(wb?.body ?? null, 'name')?.text).toMatch(/^guid\(/);
    expect(moduleParam('workbook', 'appInsightsName')).toBe('monitoring.outputs.appInsightsName');
  });

  it('charts volume, latency, cost, outcomes, review backlog and reviewed accuracy over time', () => {
    const wb = JSON.parse(readFileSync(path.join(repoRoot, 'infra', 'app', 'workbook.json'), 'utf8')) as { version: string; items: { type: number; content: { title?: string; query?: string; visualization?: string } }[] };
    expect(wb.version).toBe('Notebook/1.0');
    const panels = wb.items.filter((i) => i.type === 3).map((i) => i.content);
    const find = (title: RegExp): { query?: string; visualization?: string } | undefined => panels.find((p) => title.test(p.title ?? ''));
    expect(find(/^Volume/)?.query).toContain('"blobsight.images"');
    expect(find(/latency/i)?.query).toContain('"blobsight.model.latency_ms"');
    expect(find(/^Cost/)?.query).toContain('"blobsight.cost_usd"');
    expect(find(/^Outcomes/)?.visualization).toBe('piechart');
    expect(find(/backlog/i)?.query).toMatch(/needs_review[\s\S]*blobsight\.reviews|blobsight\.reviews[\s\S]*needs_review/);
    expect(find(/accuracy/i)?.query).toContain('"blobsight.reviews"');
    for (const p of panels) expect(p.query, p.title).toMatch(/^customMetrics/);
  });
});

describe('private network (infra/app/network.bicep)', () => {
  it('is off by default and one parameter turns it on', () => {
    const main = file('infra/main.bicep');
    const p = parameters(main).find((x) => x.name === 'privateNetwork');
    expect(p?.type).toBe('bool');
    expect(defaultOf(main, 'privateNetwork')).toBe(false);
    expect(moduleParam('network', 'enabled')).toBe('privateNetwork');
    const net = file('infra/app/network.bicep');
    expect(syntaxProblems(net.root)).toEqual([]);
    expect(resources(net).find((r) => r.type === 'Microsoft.Network/virtualNetworks')?.condition?.text).toBe('(enabled)');
  });

  it('integrates the function app with a subnet delegated to Microsoft.App/environments (Flex Consumption)', () => {
    const net = file('infra/app/network.bicep');
    const vnet = resources(net).find((r) => r.type === 'Microsoft.Network/virtualNetworks');
    const text = property(vnet?.body ?? null, 'properties', 'subnets')?.text ?? '';
    expect(text).toContain("serviceName: 'Microsoft.App/environments'");
    expect(moduleParam('api', 'virtualNetworkSubnetId')).toBe('network.outputs.appSubnetId');
    const site = resources(file('infra/app/api.bicep')).find((r) => r.type === 'Microsoft.Web/sites' && !r.existing);
    expect(property(site?.body ?? null, 'properties', 'virtualNetworkSubnetId')?.text).toBe('empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId');
  });

  it('gives storage (blob, queue, table), Cosmos DB and Azure OpenAI a private endpoint each, with linked private DNS zones', () => {
    const net = file('infra/app/network.bicep');
    const endpoints = arrayItems(variables(net).get('endpoints')).map((e) => [stringValue(property(e, 'groupId')), property(e, 'resourceId')?.text]);
    expect(endpoints).toEqual([
      ['blob', 'storage.id'],
      ['queue', 'storage.id'],
      ['table', 'storage.id'],
      ['Sql', 'cosmos.id'],
      ['account', 'openAi.id'],
    ]);
    const zones = arrayItems(variables(net).get('zoneNames')).map((z) => z.text);
    expect(zones).toEqual(['blobZone', 'queueZone', 'tableZone', 'cosmosZone', 'openAiZone', 'cognitiveZone']);
    const types = resources(net).map((r) => r.type);
    for (const t of ['Microsoft.Network/privateDnsZones', 'Microsoft.Network/privateDnsZones/virtualNetworkLinks', 'Microsoft.Network/privateEndpoints', 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups']) expect(types).toContain(t);
    expect(variables(net).get('cosmosZone')?.text).toBe("'privatelink.documents.azure.com'");
    expect(variables(net).get('openAiZone')?.text).toBe("'privatelink.openai.azure.com'");
  });

  it('turns public network access off on Cosmos DB and Azure OpenAI, and denies public clients on storage', () => {
    expect(moduleParam('cosmos', 'publicNetworkAccess')).toBe("privateNetwork ? 'Disabled' : 'Enabled'");
    expect(moduleParam('openAi', 'publicNetworkAccess')).toBe("privateNetwork ? 'Disabled' : 'Enabled'");
    expect(moduleParam('storage', 'denyPublicNetwork')).toBe('privateNetwork');
    const cosmos = resources(file('infra/app/cosmos.bicep')).find((r) => r.type === 'Microsoft.DocumentDB/databaseAccounts' && !r.existing);
    expect(property(cosmos?.body ?? null, 'properties', 'publicNetworkAccess')?.text).toBe('publicNetworkAccess');
    const openAi = resources(file('infra/app/openai.bicep')).find((r) => r.type === 'Microsoft.CognitiveServices/accounts' && !r.existing);
    expect(property(openAi?.body ?? null, 'properties', 'publicNetworkAccess')?.text).toBe('publicNetworkAccess');
    const storage = resources(file('infra/app/storage.bicep')).find((r) => r.type === 'Microsoft.Storage/storageAccounts' && !r.existing);
    expect(property(storage?.body ?? null, 'properties', 'networkAcls', 'defaultAction')?.text).toBe("denyPublicNetwork ? 'Deny' : 'Allow'");
    expect(stringValue(property(storage?.body ?? null, 'properties', 'networkAcls', 'bypass'))).toBe('AzureServices');
  });
});

describe('spending cap setting', () => {
  it('passes DAILY_BUDGET_USD from main.bicep (empty: no cap) to the app', () => {
    expect(defaultOf(file('infra/main.bicep'), 'dailyBudgetUsd')).toBe('');
    expect(moduleParam('api', 'dailyBudgetUsd')).toBe('dailyBudgetUsd');
    expect(file('infra/app/api.bicep').source).toMatch(/DAILY_BUDGET_USD: dailyBudgetUsd\n/);
    const params = JSON.parse(readFileSync(path.join(repoRoot, 'infra', 'main.parameters.json'), 'utf8')) as { parameters: Record<string, { value: string }> };
    expect(params.parameters['dailyBudgetUsd']?.value).toBe('${DAILY_BUDGET_USD=}');
    expect(params.parameters['privateNetwork']?.value).toBe('${PRIVATE_NETWORK=false}');
    expect(params.parameters['alertEmail']?.value).toBe('${ALERT_EMAIL=}');
  });
});
