import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';

import { createHttpsServer } from '@vercel/cosmosdb-server';
import { afterAll, beforeAll, describe, expect, inject,it } from 'vitest';

import { COSMOS_EMULATOR_KEY, createCosmosContainer, IMAGES_INDEXING_POLICY } from '../../shared/store';
import { uniqueName } from '../support/emulators';

const cosmos = (database: string, createIfMissing: boolean): Parameters<typeof createCosmosContainer>[0] => ({
  endpoint: inject('cosmosEndpoint'),
  key: inject('cosmosKey'),
  database,
  container: 'images',
  createIfMissing,
});

describe('createCosmosContainer', () => {
  it('creates the database and container, partitioned by /id with the indexing policy, and is idempotent', async () => {
    const database = uniqueName('create');
    const container = await createCosmosContainer(cosmos(database, true));
    try {
      const { resource } = await container.read();
      expect(resource?.partitionKey?.paths).toEqual(['/id']);
      expect(resource?.indexingPolicy?.excludedPaths).toEqual(expect.arrayContaining(IMAGES_INDEXING_POLICY.excludedPaths ?? []));

      await container.items.upsert({ id: 'kept', type: 'image' });
      const again = await createCosmosContainer(cosmos(database, true));
      const { resource: kept } = await again.item('kept', 'kept').read<{ id: string }>();
      expect(kept?.id).toBe('kept');
    } finally {
      await container.database.delete();
    }
  });

  it('creates nothing when createIfMissing is false', async () => {
    const container = await createCosmosContainer(cosmos(uniqueName('absent'), false));
    await expect(container.database.read()).rejects.toMatchObject({ code: 404 });
  });
});

describe('createCosmosContainer over https on loopback (an emulator with a self-signed certificate)', () => {
  let server: Server;
  let endpoint: string;
  beforeAll(async () => {
    server = createHttpsServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('trusts the certificate only with the well-known emulator key', async () => {
    const container = await createCosmosContainer({ endpoint, key: COSMOS_EMULATOR_KEY, database: 'tls', container: 'images', createIfMissing: true });
    expect((await container.read()).resource?.id).toBe('images');

    const strict = createCosmosContainer({ endpoint, key: 'some-other-key', database: 'tls', container: 'images', createIfMissing: true });
    await expect(strict).rejects.toThrow(/certificate|self[- ]signed|CERT/i);
  });
});
