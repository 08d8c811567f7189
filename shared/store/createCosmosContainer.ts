/** Opens (and for local use creates) the Cosmos DB container that holds one document per image. */
import https from 'node:https';

import type { ConnectionPolicy, Container, CosmosClientOptions, IndexingPolicy, RetryOptions } from '@azure/cosmos';
import { CosmosClient } from '@azure/cosmos';
import type { TokenCredential } from '@azure/identity';
import { DefaultAzureCredential } from '@azure/identity';

import type { BlobsightConfig } from '../config';

/**
 * The Cosmos DB emulator's published, well-known key. Only with this key on a loopback https endpoint is TLS
 * verification relaxed (the emulator's certificate is self-signed); it grants nothing anywhere else.
 */
export const COSMOS_EMULATOR_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

/**
 * Throttling retries the SDK makes itself, honouring the server's retry-after. Sized for Event Grid's 30 s
 * delivery budget, most of which the model call needs: beyond these the invocation fails and Event Grid redelivers.
 */
export const COSMOS_RETRY_OPTIONS: RetryOptions = { maxRetryAttemptCount: 3, maxWaitTimeInSeconds: 10 };

/** Per-request timeout, ms; the SDK default (60 s) would outlast the whole delivery. */
export const COSMOS_REQUEST_TIMEOUT_MS = 8_000;

/** Partition key of the images container: per-image point reads and writes spread evenly, no hot partition in bursts. */
export const IMAGES_PARTITION_KEY_PATH = '/id';

/**
 * Everything is indexed except the bulky parts no query filters or sorts on: the full result (queries use the
 * flattened `labels`), usage, timings, error details and the URL. Queries on these paths would need a scan.
 */
export const IMAGES_INDEXING_POLICY: IndexingPolicy = {
  indexingMode: 'consistent',
  automatic: true,
  includedPaths: [{ path: '/*' }],
  excludedPaths: [
    { path: '/result/*' },
    { path: '/usage/*' },
    { path: '/timings/*' },
    { path: '/error/details/*' },
    { path: '/blob/url/?' },
    { path: '/"_etag"/?' },
  ],
};

/**
 * The container named by `cosmos`. With `cosmos.key` the client uses key auth (emulator); otherwise `credential`,
 * else DefaultAzureCredential (keyless, data-plane RBAC). With `createIfMissing` the database and container are
 * created when absent (needs key auth: data-plane RBAC cannot create them). Nothing is memoized: callers hold
 * on to the result.
 */
export async function createCosmosContainer(cosmos: BlobsightConfig['cosmos'], credential?: TokenCredential): Promise<Container> {
  const client = new CosmosClient(cosmosClientOptions(cosmos, credential));
  if (!cosmos.createIfMissing) return client.database(cosmos.database).container(cosmos.container);

  const { database } = await client.databases.createIfNotExists({ id: cosmos.database });
  const { container } = await database.containers.createIfNotExists({
    id: cosmos.container,
    partitionKey: { paths: [IMAGES_PARTITION_KEY_PATH] },
    indexingPolicy: IMAGES_INDEXING_POLICY,
  });
  return container;
}

function cosmosClientOptions(cosmos: BlobsightConfig['cosmos'], credential: TokenCredential | undefined): CosmosClientOptions {
  const url = new URL(cosmos.endpoint);
  const loopback = isLoopback(url.hostname);
  const connectionPolicy: ConnectionPolicy = {
    requestTimeout: COSMOS_REQUEST_TIMEOUT_MS,
    retryOptions: { ...COSMOS_RETRY_OPTIONS },
    // Emulators advertise addresses that may not be reachable from here, and plain http has no regions to discover.
    enableEndpointDiscovery: !(url.protocol === 'http:' || loopback),
  };
  const auth: Pick<CosmosClientOptions, 'key' | 'aadCredentials'> =
    cosmos.key !== undefined ? { key: cosmos.key } : { aadCredentials: credential ?? new DefaultAzureCredential() };
  const relaxTls = url.protocol === 'https:' && loopback && cosmos.key === COSMOS_EMULATOR_KEY;
  return {
    endpoint: cosmos.endpoint,
    ...auth,
    connectionPolicy,
    ...(relaxTls ? { agent: new https.Agent({ rejectUnauthorized: false }) } : {}),
  };
}

function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '[::1]' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}
