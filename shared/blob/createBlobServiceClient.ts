/** Builds the Blob Storage client from configuration: a connection string (Azurite, dev) or keyless identity (Azure). */
import type { TokenCredential } from '@azure/identity';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import type { StoragePipelineOptions, StorageRetryOptions } from '@azure/storage-blob';
import { BlobServiceClient, StorageRetryPolicyType } from '@azure/storage-blob';

import type { StorageConfig } from '../config';

/**
 * Retries the storage SDK makes itself. Event Grid waits 30 s for an answer and the model call needs most of it,
 * so storage gets at most 3 tries of 8 s with short backoff (worst case about 27 s, typical a few ms); beyond that
 * the invocation fails and Event Grid redelivers.
 */
export const BLOB_RETRY_OPTIONS: StorageRetryOptions = {
  retryPolicyType: StorageRetryPolicyType.EXPONENTIAL,
  maxTries: 3,
  tryTimeoutInMs: 8_000,
  retryDelayInMs: 250,
  maxRetryDelayInMs: 2_000,
};

/**
 * A BlobServiceClient for `storage`. A connection string (including `UseDevelopmentStorage=true`) is used as is;
 * identity-based settings use `credential` when given, else the user-assigned managed identity named by `clientId`,
 * else DefaultAzureCredential.
 */
export function createBlobServiceClient(storage: StorageConfig, credential?: TokenCredential): BlobServiceClient {
  const options: StoragePipelineOptions = { retryOptions: BLOB_RETRY_OPTIONS };
  if (storage.kind === 'connection-string') {
    return BlobServiceClient.fromConnectionString(storage.connectionString, options);
  }
  const tokenCredential =
    credential ?? (storage.clientId !== undefined ? new ManagedIdentityCredential({ clientId: storage.clientId }) : new DefaultAzureCredential());
  return new BlobServiceClient(storage.blobServiceUri, tokenCredential, options);
}
