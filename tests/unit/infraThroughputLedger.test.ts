/**
 * The shared quota slot ledger in infra/, checked on the syntax tree: its container exists in the app's storage
 * account, the app is told where it is (PACER_LEDGER) in a form loadThroughputConfig accepts, and the app identity
 * may write it. Each check also runs on a broken copy.
 */
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { loadThroughputConfig } from '../../shared/throughput/loadThroughputConfig';
import type { BicepFile } from '../support/bicepTree';
import { objectProperties, parseBicep, parseBicepDir, property, propertyKey, propertyValue, resources, stringValue } from '../support/bicepTree';

const repoRoot = path.resolve(__dirname, '..', '..');
const BLOB_DATA_OWNER = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b';

let api: BicepFile;
let rbac: BicepFile;
beforeAll(async () => {
  const files = await parseBicepDir(repoRoot, 'infra');
  const find = (rel: string): BicepFile => {
    const f = files.find((x) => x.rel === rel);
    if (f === undefined) throw new Error(`${rel} not found`);
    return f;
  };
  api = find('infra/app/api.bicep');
  rbac = find('infra/app/rbac.bicep');
});

/** Problems with the ledger's container and setting in api.bicep, empty when right. */
function ledgerProblems(f: BicepFile): string[] {
  const problems: string[] = [];
  const container = resources(f).find((r) => r.type === 'Microsoft.Storage/storageAccounts/blobServices/containers' && !r.existing);
  const name = stringValue(property(container?.body, 'name'));
  if (container === undefined || name === undefined) return ['no ledger container'];
  if (stringValue(property(container.body, 'properties', 'publicAccess')) !== 'None') problems.push('ledger container is not private');
  const settings = resources(f).find((x) => x.type === 'Microsoft.Web/sites/config');
  const setting = objectProperties(property(settings?.body, 'properties')).find((p) => propertyKey(p) === 'PACER_LEDGER');
  if (setting === undefined) return [...problems, 'PACER_LEDGER not set'];
  const value = propertyValue(setting)?.text ?? '';
  const resolved = value.replace(/^'|'$/g, '').replace(`\${${container.symbol}.name}`, name);
  const issues: string[] = [];
  const t = loadThroughputConfig({ MODEL_TPM: '30000', PACER_LEDGER: resolved }, issues);
  if (issues.length > 0 || t.ledger?.container !== name) problems.push(`PACER_LEDGER ${value} does not name the ledger container`);
  return problems;
}

describe('infra for the shared quota slot ledger', () => {
  it('creates a private container for the ledger and points PACER_LEDGER at a blob in it', async () => {
    expect(ledgerProblems(api)).toEqual([]);
    const elsewhere = await parseBicep(api.source.replace("PACER_LEDGER: '${quotaLedgerContainer.name}/slots.json'", "PACER_LEDGER: 'images/slots.json'"), api.rel);
    expect(ledgerProblems(elsewhere).join('\n')).toMatch(/does not name the ledger container/);
    const open = await parseBicep(api.source.replace("name: 'quota-ledger'\n  properties: {\n    publicAccess: 'None'", "name: 'quota-ledger'\n  properties: {\n    publicAccess: 'Blob'"), api.rel);
    expect(ledgerProblems(open)).toContain('ledger container is not private');
    const unset = await parseBicep(api.source.replace(/\n\s*PACER_LEDGER: .*\n/, '\n'), api.rel);
    expect(ledgerProblems(unset)).toContain('PACER_LEDGER not set');
  });

  it('lets the app identity write the ledger blob: Storage Blob Data Owner on the whole account', () => {
    const owner = resources(rbac).find((r) => r.type === 'Microsoft.Authorization/roleAssignments' && (r.body?.text ?? '').includes('storageBlobDataOwner'));
    expect(owner?.body?.text).toMatch(/scope: storage\b/);
    expect(rbac.source).toContain(`storageBlobDataOwner: '${BLOB_DATA_OWNER}'`);
  });
});
