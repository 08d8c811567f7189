/** BlobCreated events in the published Event Grid schema, for tests that deliver them to the pipeline. */
import { randomUUID } from 'node:crypto';

export interface BlobCreatedOptions {
  container: string;
  name: string;
  eTag: string;
  contentLength: number;
  contentType?: string;
  api?: string;
  sequencer?: string;
  /** Blob endpoint of the account, e.g. http://127.0.0.1:10000/devstoreaccount1. */
  accountUrl?: string;
  eventType?: string;
}

let sequence = 1;

/** Same envelope and data fields as the BlobCreated example in Azure's docs (shared/specs). */
export function blobCreatedEvent(o: BlobCreatedOptions): Record<string, unknown> {
  const accountUrl = o.accountUrl ?? 'https://blobsightdev.blob.core.windows.net';
  return {
    topic: '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/blobsightdev',
    subject: `/blobServices/default/containers/${o.container}/blobs/${o.name}`,
    eventType: o.eventType ?? 'Microsoft.Storage.BlobCreated',
    eventTime: new Date().toISOString(),
    id: randomUUID(),
    data: {
      api: o.api ?? 'PutBlob',
      clientRequestId: randomUUID(),
      requestId: randomUUID(),
      eTag: o.eTag,
      contentType: o.contentType ?? 'image/jpeg',
      contentLength: o.contentLength,
      blobType: 'BlockBlob',
      url: `${accountUrl}/${o.container}/${o.name.split('/').map(encodeURIComponent).join('/')}`,
      sequencer: o.sequencer ?? (sequence++).toString(16).padStart(32, '0'),
      storageDiagnostics: { batchId: randomUUID() },
    },
    dataVersion: '',
    metadataVersion: '1',
  };
}
