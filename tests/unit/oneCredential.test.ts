/** Keyless everywhere: storage, Cosmos DB and the model share one credential (one token cache, one identity). */
import type * as Identity from '@azure/identity';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import { loadConfig } from '../../shared/config';
import { createServices } from '../../shared/runtime';

// vi.mock is hoisted above the imports; the record it writes to must be hoisted with it.
const built = vi.hoisted((): Array<{ kind: string; options: unknown }> => []);

vi.mock('@azure/identity', async (importOriginal) => {
  const real = await importOriginal<typeof Identity>();
  class CountingDefault extends real.DefaultAzureCredential {
    constructor(options?: ConstructorParameters<typeof real.DefaultAzureCredential>[0]) {
      super(options);
      built.push({ kind: 'DefaultAzureCredential', options });
    }
  }
  class CountingManaged extends real.ManagedIdentityCredential {
    constructor(options: { clientId: string }) {
      super(options);
      built.push({ kind: 'ManagedIdentityCredential', options });
    }
  }
  return { ...real, DefaultAzureCredential: CountingDefault, ManagedIdentityCredential: CountingManaged };
});


const keyless = {
  AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net',
  COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/',
  AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com/',
  AZURE_OPENAI_DEPLOYMENT: 'gpt-4o',
};

beforeEach(() => {
  built.length = 0;
});

describe('createServices', () => {
  it('builds one credential for storage, Cosmos DB and the model', async () => {
    await createServices(loadConfig(keyless));
    expect(built).toHaveLength(1);
  });

  it('pins that one credential to the user-assigned identity of the storage connection', async () => {
    await createServices(loadConfig({ ...keyless, AzureWebJobsStorage__clientId: '00000000-0000-0000-0000-000000000001' }));
    expect(built).toHaveLength(1);
    expect(built[0]).toMatchObject({ kind: 'DefaultAzureCredential', options: { managedIdentityClientId: '00000000-0000-0000-0000-000000000001' } });
  });
});
