/** Builds the pacer and the parking queue from configuration, with the same storage connection as the images. */
import type { TokenCredential } from '@azure/identity';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { StorageRetryOptions } from '@azure/storage-queue';
import { QueueServiceClient } from '@azure/storage-queue';

import type { StorageConfig } from '../config';
import type { Logger } from '../logging';
import { BlobSlotStore } from './BlobSlotStore';
import type { ThroughputConfig } from './loadThroughputConfig';
import { QueueParkingLot } from './QueueParkingLot';
import { QuotaPacer } from './QuotaPacer';
import type { Parking } from './runOrPark';
import { SlotLedger } from './SlotLedger';

/** Parking runs inside the event's budget: a few short tries, then the event goes back to Event Grid as before. */
const QUEUE_RETRY_OPTIONS: StorageRetryOptions = { maxTries: 3, tryTimeoutInMs: 5_000, retryDelayInMs: 200, maxRetryDelayInMs: 1_000 };

export function createPacer(t: ThroughputConfig, ledger?: SlotLedger): QuotaPacer | undefined {
  if (t.tokensPerMinute === null) return undefined;
  return new QuotaPacer({
    tokensPerMinute: t.tokensPerMinute,
    ...(t.requestsPerMinute === null ? {} : { requestsPerMinute: t.requestsPerMinute }),
    maxInstances: t.maxInstances,
    utilisation: t.utilisation,
    ...(ledger === undefined ? {} : { ledger }),
  });
}

/**
 * The send schedule every instance shares (PACER_LEDGER), as a blob beside the images: only with pacing on. A
 * failure of it is logged once per cooldown and the instance paces alone meanwhile.
 */
export function createSlotLedger(t: ThroughputConfig, blobService: BlobServiceClient, log: Pick<Logger, 'warn'>): SlotLedger | undefined {
  if (t.tokensPerMinute === null || t.ledger === null) return undefined;
  const store = new BlobSlotStore(blobService.getContainerClient(t.ledger.container), t.ledger.blob);
  return new SlotLedger(store, { onFailure: (e) => log.warn('quota slot ledger unavailable; this instance paces alone for a while', { error: e instanceof Error ? e.message : String(e) }) });
}

/**
 * The queue client beside the blob client: a connection string names its QueueEndpoint (Azurite: the queue
 * service's own port); identity-based access reads `<connection>__queueServiceUri`, else derives it from the blob URI.
 */
export function createQueueServiceClient(storage: StorageConfig, env: Readonly<Record<string, string | undefined>>, credential?: TokenCredential): QueueServiceClient {
  if (storage.kind === 'connection-string') return QueueServiceClient.fromConnectionString(storage.connectionString, { retryOptions: QUEUE_RETRY_OPTIONS });
  const connection = storage.setting.replace(/__blobServiceUri$/, '');
  const uri = env[`${connection}__queueServiceUri`]?.trim() || storage.blobServiceUri.replace('.blob.', '.queue.');
  const tokenCredential = credential ?? (storage.clientId !== undefined ? new ManagedIdentityCredential({ clientId: storage.clientId }) : new DefaultAzureCredential());
  return new QueueServiceClient(uri, tokenCredential, { retryOptions: QUEUE_RETRY_OPTIONS });
}

/**
 * A connection string with its own BlobEndpoint but no QueueEndpoint (a blob-only Azurite, as the integration tests
 * start) names no queue service: parking is off there rather than guessed at a cloud address.
 */
export function namesQueueService(storage: StorageConfig): boolean {
  if (storage.kind === 'identity') return true;
  const cs = storage.connectionString;
  return /(^|;)\s*QueueEndpoint=/i.test(cs) || /(^|;)\s*UseDevelopmentStorage=true/i.test(cs) || !/(^|;)\s*BlobEndpoint=/i.test(cs);
}

export function createParking(t: ThroughputConfig, storage: StorageConfig, pacer: QuotaPacer | undefined, env: Readonly<Record<string, string | undefined>>, credential?: TokenCredential): Parking | undefined {
  if (t.parkingQueue === null || !namesQueueService(storage)) return undefined;
  const queue = createQueueServiceClient(storage, env, credential).getQueueClient(t.parkingQueue);
  return { lot: new QueueParkingLot(queue), pacer, queue };
}
