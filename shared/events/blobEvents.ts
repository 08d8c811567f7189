/** Storage blob events in the Event Grid schema, with the fields Azure Storage publishes: the one builder the dev host and the tests share. */
import { randomUUID } from 'node:crypto';

import { BLOB_CREATED, BLOB_DELETED } from './parseBlobEvent';

/** A placeholder subscription: local resources live in no Azure subscription. */
export const LOCAL_SUBSCRIPTION_ID = '00000000-0000-0000-0000-000000000000';

export interface StorageBlobEvent {
  topic: string;
  subject: string;
  eventType: string;
  eventTime: string;
  id: string;
  data: Record<string, unknown>;
  dataVersion: string;
  metadataVersion: string;
}

/** What storage knows about a blob version, as a listing or getProperties reports it. */
export interface BlobFacts {
  accountName: string;
  container: string;
  name: string;
  /** The blob's URL, as the SDK builds it (percent-encoded). */
  url: string;
  /** Quoted, as storage sends it (`"0x8D..."`). */
  eTag: string;
  contentLength: number;
  contentType: string | null;
  blobType: string;
}

/** The resource id Event Grid puts in `topic` for a storage account's events. */
export function storageTopic(accountName: string): string {
  return `/subscriptions/${LOCAL_SUBSCRIPTION_ID}/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/${accountName}`;
}

let lastSequencer = 0n;

/**
 * The next `data.sequencer`: 32 hex digits that compare (as strings) in write order, in this process and across
 * restarts, because they start from the clock in microseconds.
 */
export function nextSequencer(): string {
  const now = BigInt(Date.now()) * 1000n;
  lastSequencer = now > lastSequencer ? now : lastSequencer + 1n;
  return lastSequencer.toString(16).padStart(32, '0');
}

function subject(container: string, name: string): string {
  return `/blobServices/default/containers/${container}/blobs/${name}`;
}

/**
 * A BlobCreated event. `api` is PutBlob or PutBlockList (the completed writes storage reports); the sequencer is
 * fresh unless given.
 */
export function blobCreatedEvent(blob: BlobFacts, api: 'PutBlob' | 'PutBlockList' | 'CopyBlob' = 'PutBlob', now: Date = new Date(), sequencer: string = nextSequencer()): StorageBlobEvent {
  return {
    topic: storageTopic(blob.accountName),
    subject: subject(blob.container, blob.name),
    eventType: BLOB_CREATED,
    eventTime: now.toISOString(),
    id: randomUUID(),
    data: {
      api,
      clientRequestId: randomUUID(),
      requestId: randomUUID(),
      eTag: blob.eTag,
      contentType: blob.contentType ?? 'application/octet-stream',
      contentLength: blob.contentLength,
      blobType: blob.blobType,
      url: blob.url,
      sequencer,
      storageDiagnostics: { batchId: randomUUID() },
    },
    dataVersion: '',
    metadataVersion: '1',
  };
}

/** A BlobDeleted event for the last version seen of a blob. */
export function blobDeletedEvent(blob: Omit<BlobFacts, 'eTag' | 'contentLength'>, now: Date = new Date()): StorageBlobEvent {
  return {
    topic: storageTopic(blob.accountName),
    subject: subject(blob.container, blob.name),
    eventType: BLOB_DELETED,
    eventTime: now.toISOString(),
    id: randomUUID(),
    data: {
      api: 'DeleteBlob',
      clientRequestId: randomUUID(),
      requestId: randomUUID(),
      contentType: blob.contentType ?? 'application/octet-stream',
      blobType: blob.blobType,
      url: blob.url,
      sequencer: nextSequencer(),
      storageDiagnostics: { batchId: randomUUID() },
    },
    dataVersion: '',
    metadataVersion: '1',
  };
}
