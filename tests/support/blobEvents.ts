/** BlobCreated events for tests, built by the same builder the dev host uses (shared/events/blobEvents.ts). */
import { blobCreatedEvent as buildBlobCreated, nextSequencer } from '../../shared/events';

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
  /** Overrides `data.url` (a forged event); by default it is the blob's URL under accountUrl. */
  url?: string;
}

/** Same envelope and data fields as the BlobCreated example in Azure's docs (shared/specs). */
export function blobCreatedEvent(o: BlobCreatedOptions): Record<string, unknown> {
  const accountUrl = o.accountUrl ?? 'https://blobsightdev.blob.core.windows.net';
  const event = buildBlobCreated(
    {
      accountName: new URL(accountUrl).pathname.split('/')[1] || new URL(accountUrl).hostname.split('.')[0] || 'blobsightdev',
      container: o.container,
      name: o.name,
      url: o.url ?? `${accountUrl}/${o.container}/${o.name.split('/').map(encodeURIComponent).join('/')}`,
      eTag: o.eTag,
      contentLength: o.contentLength,
      contentType: o.contentType ?? 'image/jpeg',
      blobType: 'BlockBlob',
    },
    'PutBlob',
    new Date(),
    o.sequencer ?? nextSequencer(),
  );
  // The builder types `api` to the completed writes; tests also send incomplete ones (PutBlock) and other event types.
  if (o.api !== undefined) event.data['api'] = o.api;
  if (o.eventType !== undefined) event.eventType = o.eventType;
  return { ...event };
}
