/**
 * Reprocessing goes through the ordinary flow: the blob's metadata is rewritten (IfMatch its current version), which
 * gives the blob a new version (eTag) with the same bytes, and that version's BlobCreated is processed like any
 * other: claim, download, then the content cache. The same bytes, profile version and model are a cache hit and cost
 * nothing; another profile (or profile version, or model) is a new answer and is paid once. If this call dies after
 * the metadata write, the reconcile timer finds the blob newer than its document and finishes it.
 */
import { randomUUID } from 'node:crypto';

import { BLOB_CREATED } from '../events';
import type { BlobOutcome, PipelineDeps } from '../pipeline';
import { processBlobCreated } from '../pipeline';
import { requireProfile } from '../profiles';
import type { ImageDocument } from '../store';

/** Blob metadata naming the profile chosen by a reprocess; it wins over the path and `profile` metadata. */
export const REPROCESS_PROFILE_METADATA = 'reprocessprofile';
const REPROCESSED_AT_METADATA = 'reprocessedat';

export type ReprocessResult =
  | { kind: 'not-found' }
  | { kind: 'refused'; code: 'in_flight' | 'deleted' | 'reviewed' | 'blob_not_found' | 'blob_changed'; reason: string }
  | { kind: 'done'; outcome: BlobOutcome };

export async function reprocessImage(id: string, o: { profile?: string }, deps: PipelineDeps): Promise<ReprocessResult> {
  const doc = await deps.store.get(id);
  if (doc === undefined) return { kind: 'not-found' };
  const refusal = refuse(doc);
  if (refusal !== undefined) return refusal;
  // Throws PermanentError unknown_profile (a 400) naming the known profiles.
  if (o.profile !== undefined) requireProfile(deps.profiles, o.profile, 'the reprocess request');

  const blob = deps.images.getBlockBlobClient(doc.blob.name);
  const props = await blob.getProperties().catch((e: unknown) => {
    if ((e as { statusCode?: unknown }).statusCode === 404) return undefined;
    throw e;
  });
  if (props === undefined) return { kind: 'refused', code: 'blob_not_found', reason: `The blob ${doc.blob.name} no longer exists.` };
  const metadata = { ...(props.metadata ?? {}), [REPROCESSED_AT_METADATA]: new Date().toISOString(), ...(o.profile === undefined ? {} : { [REPROCESS_PROFILE_METADATA]: o.profile }) };
  let eTag: string | undefined;
  try {
    eTag = (await blob.setMetadata(metadata, { conditions: { ifMatch: props.etag ?? '*' } })).etag;
  } catch (e) {
    if ((e as { statusCode?: unknown }).statusCode === 412) return { kind: 'refused', code: 'blob_changed', reason: 'The blob changed while reprocessing was asked for; its own event processes it.' };
    throw e;
  }
  const event = {
    id: `reprocess-${randomUUID()}`,
    subject: `/blobServices/default/containers/${deps.images.containerName}/blobs/${doc.blob.name}`,
    eventType: BLOB_CREATED,
    eventTime: new Date().toISOString(),
    data: { api: 'PutBlob', eTag, contentLength: props.contentLength, contentType: props.contentType, url: blob.url },
    dataVersion: '',
    metadataVersion: '1',
  };
  return { kind: 'done', outcome: await processBlobCreated(event, deps) };
}

function refuse(doc: ImageDocument): ReprocessResult | undefined {
  if (doc.status === 'processing') return { kind: 'refused', code: 'in_flight', reason: 'The image is being processed right now.' };
  if (doc.status === 'deleted') return { kind: 'refused', code: 'deleted', reason: 'The blob was deleted; there is nothing to reprocess.' };
  // A new answer starts a new document version, which would drop the person's correction with the old answer.
  if (doc.review !== null && doc.review !== undefined) return { kind: 'refused', code: 'reviewed', reason: 'A person reviewed this image; its review would be lost with the earlier answer.' };
  return undefined;
}
