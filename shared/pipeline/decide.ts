/**
 * What one blob event should do, decided from three facts and nothing else: the event (a hint), the stored document,
 * and the blob as storage reports it now (the truth). Pure: no I/O, so every case is a row in a unit test.
 */
import type { BlobState } from '../blob/readBlobState';
import { sameETag } from '../blob/readBlobState';
import type { BlobEvent } from '../events/parseBlobEvent';
import { BLOB_CREATED, BLOB_DELETED, COMPLETED_WRITE_APIS } from '../events/parseBlobEvent';
import type { ImageDocument, Lease } from '../store/imageDocument';
import { FINAL_STATUSES } from '../store/imageDocument';

export type Decision =
  /** Nothing to do and nothing to record (not our event, or no blob and no document). */
  | { action: 'ignore'; reason: string }
  /** The event names a version the blob no longer has: the current version's own event does the work. */
  | { action: 'superseded'; reason: string }
  /** The blob's current version already has a final document: a redelivery. */
  | { action: 'duplicate' }
  /** Someone holds a live claim: hand the event back for redelivery (if that worker dies, the retry takes over). */
  | { action: 'in-flight' }
  /** Claim the blob's current version: none stored yet, a newer version than stored, or an expired claim on it. */
  | { action: 'claim'; kind: 'first' | 'new-version' | 'take-over' }
  /** The blob is gone and its document does not say so yet. */
  | { action: 'mark-deleted' }
  /** The blob is gone and its document already says so. */
  | { action: 'already-deleted' };

export function leaseIsLive(lease: Lease | null | undefined, now: Date): boolean {
  return lease !== null && lease !== undefined && Date.parse(lease.expiresAt) > now.getTime();
}

/**
 * `event` is parsed and for the images container. Event fields are only hints: the eTag says which version the
 * sender saw, and an event for a version the blob no longer has changes nothing; sequencers are never compared
 * (a forged one could otherwise hide every later write); a delete counts only when the blob is really gone.
 */
export function decide(event: BlobEvent, stored: ImageDocument | undefined, blob: BlobState, now: Date): Decision {
  if (event.type === BLOB_DELETED) return blob.exists ? { action: 'ignore', reason: 'the blob still exists: the delete is for an earlier life of it' } : gone(stored);
  if (event.type !== BLOB_CREATED) return { action: 'ignore', reason: `event type ${event.type} is not handled` };
  if (event.api !== null && !COMPLETED_WRITE_APIS.includes(event.api)) return { action: 'ignore', reason: `api ${event.api} is not a completed write` };
  if (!blob.exists) return gone(stored);
  if (event.eTag !== null && !sameETag(event.eTag, blob.eTag)) return { action: 'superseded', reason: `the blob was overwritten: the event is for ${event.eTag}, the blob is ${blob.eTag}` };
  if (stored === undefined) return { action: 'claim', kind: 'first' };

  const live = stored.status === 'processing' && leaseIsLive(stored.lease, now);
  if (sameETag(stored.blob.eTag, blob.eTag) && stored.status !== 'deleted') {
    if (FINAL_STATUSES.includes(stored.status)) return { action: 'duplicate' };
    return live ? { action: 'in-flight' } : { action: 'claim', kind: 'take-over' };
  }
  // An event without an eTag (reconcile's) knows no version: it never takes a live claim away from its worker.
  if (live && event.eTag === null) return { action: 'in-flight' };
  return { action: 'claim', kind: 'new-version' };
}

function gone(stored: ImageDocument | undefined): Decision {
  if (stored === undefined) return { action: 'ignore', reason: 'the blob does not exist and has no document' };
  return stored.status === 'deleted' ? { action: 'already-deleted' } : { action: 'mark-deleted' };
}
