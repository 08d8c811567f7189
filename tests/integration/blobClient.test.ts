import type { AccessToken, TokenCredential } from '@azure/identity';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';

import { createBlobServiceClient } from '../../shared/blob';
import { createTestContainer } from '../support/emulators';

const fakeCredential: TokenCredential = {
  getToken: (): Promise<AccessToken> => Promise.resolve({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

describe('createBlobServiceClient', () => {
  it('talks to storage through a connection string (Azurite here)', async () => {
    const box = await createTestContainer('client');
    try {
      await box.value.getBlockBlobClient('hello.txt').uploadData(Buffer.from('hi'));
      const names: string[] = [];
      for await (const blob of box.value.listBlobsFlat()) names.push(blob.name);
      expect(names).toEqual(['hello.txt']);
    } finally {
      await box.cleanup();
    }
  });

  it('maps UseDevelopmentStorage=true to the local Azurite endpoint', () => {
    const client = createBlobServiceClient({ kind: 'connection-string', connectionString: 'UseDevelopmentStorage=true', setting: 'AzureWebJobsStorage' });
    expect(client.url).toMatch(/^http:\/\/127\.0\.0\.1:10000\/devstoreaccount1\/?$/);
  });

  it('uses the service URI keylessly: the given credential, else the user-assigned identity, else DefaultAzureCredential', () => {
    const uri = 'https://acct.blob.core.windows.net';
    const identity = { kind: 'identity' as const, blobServiceUri: uri, clientId: undefined, setting: 'AzureWebJobsStorage__blobServiceUri' };

    const given = createBlobServiceClient(identity, fakeCredential);
    const userAssigned = createBlobServiceClient({ ...identity, clientId: '00000000-0000-0000-0000-000000000001' });
    const fallback = createBlobServiceClient(identity);

    expect(given.url).toMatch(/^https:\/\/acct\.blob\.core\.windows\.net\/?$/);
    expect(given.credential).toBe(fakeCredential);
    expect(userAssigned.credential).toBeInstanceOf(ManagedIdentityCredential);
    expect(fallback.credential).toBeInstanceOf(DefaultAzureCredential);
  });
});
