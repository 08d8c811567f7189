/** The reconcile timer's scan and dead-letter settings: documented defaults, and clear errors for bad values. */
import { describe, expect, it } from 'vitest';

import { DEFAULTS, loadConfig } from '../../shared/config';
import { isConfigError } from '../../shared/errors';

const azureEnv = {
  AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net',
  COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/',
  AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com/',
  AZURE_OPENAI_DEPLOYMENT: 'gpt-4o',
};

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    if (isConfigError(e)) return e.message;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('reconcile settings', () => {
  it('default to 5,000 blobs scanned per run and 10 runs before a failing dead letter is moved aside', () => {
    expect(loadConfig(azureEnv).reconcile).toMatchObject({ maxScan: 5_000, maxDeadLetterAttempts: 10 });
    expect(DEFAULTS).toMatchObject({ RECONCILE_MAX_SCAN: 5_000, RECONCILE_DEADLETTER_MAX_ATTEMPTS: 10 });
  });

  it('read RECONCILE_MAX_SCAN and RECONCILE_DEADLETTER_MAX_ATTEMPTS', () => {
    expect(loadConfig({ ...azureEnv, RECONCILE_MAX_SCAN: '20000', RECONCILE_DEADLETTER_MAX_ATTEMPTS: '3' }).reconcile).toMatchObject({ maxScan: 20_000, maxDeadLetterAttempts: 3 });
  });

  it('refuse values that are not positive whole numbers, naming the setting', () => {
    const msg = configError({ ...azureEnv, RECONCILE_MAX_SCAN: '0', RECONCILE_DEADLETTER_MAX_ATTEMPTS: '2.5' });
    expect(msg).toMatch(/RECONCILE_MAX_SCAN/);
    expect(msg).toMatch(/RECONCILE_DEADLETTER_MAX_ATTEMPTS/);
  });
});
