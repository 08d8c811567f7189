/** Helpers for integration tests: clients, uniquely named containers and databases on the emulators, and a valid config. */
import { randomBytes } from 'node:crypto';

import type { Container } from '@azure/cosmos';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { inject } from 'vitest';

import { createBlobServiceClient } from '../../shared/blob';
import type { BlobsightConfig, Env } from '../../shared/config';
import { loadConfig } from '../../shared/config';
import { createCosmosContainer } from '../../shared/store';

export interface Disposable<T> {
  value: T;
  /** Deletes what was created; safe to call twice or after the resource is gone. */
  cleanup(): Promise<void>;
}

/** A client for the test storage account, built the way the app builds it. */
export function testBlobServiceClient(): BlobServiceClient {
  return createBlobServiceClient({ kind: 'connection-string', connectionString: inject('blobConnectionString'), setting: 'AzureWebJobsStorage' });
}

/** `prefix` plus a random suffix, lower-case and short enough for a blob container or a Cosmos id. */
export function uniqueName(prefix: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${clean === '' ? 't' : clean}-${randomBytes(5).toString('hex')}`;
}

/** A new, empty blob container with a unique name. */
export async function createTestContainer(prefix: string): Promise<Disposable<ContainerClient>> {
  const container = testBlobServiceClient().getContainerClient(uniqueName(prefix));
  await container.create();
  return { value: container, cleanup: async () => void (await container.deleteIfExists()) };
}

/** A new Cosmos container in a new database, created exactly as the app creates its own (partition key, indexing policy). */
export async function createTestCosmosContainer(prefix: string): Promise<Disposable<Container>> {
  const container = await createCosmosContainer({
    endpoint: inject('cosmosEndpoint'),
    key: inject('cosmosKey'),
    database: uniqueName(prefix),
    container: 'images',
    createIfMissing: true,
  });
  return {
    value: container,
    cleanup: async () => {
      await container.database.delete().catch((e: unknown) => {
        if ((e as { code?: unknown }).code !== 404) throw e;
      });
    },
  };
}

/**
 * The environment a test app runs with: the emulators, and a model endpoint nobody listens on (port 1) so nothing
 * reaches a real model unless a test points the model settings elsewhere. `overrides` win; an undefined value unsets.
 */
export function testEnv(overrides: Env = {}): Env {
  return {
    AzureWebJobsStorage: inject('blobConnectionString'),
    COSMOS_ENDPOINT: inject('cosmosEndpoint'),
    COSMOS_KEY: inject('cosmosKey'),
    AZURE_OPENAI_ENDPOINT: 'http://127.0.0.1:1',
    AZURE_OPENAI_DEPLOYMENT: 'gpt-4o',
    ...overrides,
  };
}

/** A validated BlobsightConfig for tests, through the real loadConfig so it can never drift from what the app accepts. */
export function testConfig(overrides: Env = {}): BlobsightConfig {
  return loadConfig(testEnv(overrides));
}
