/** BlobDeleted: the document stays, marked `deleted`, but only when storage confirms the blob is really gone. */
import { readBlobState } from '../blob/readBlobState';
import { TransientError } from '../errors';
import type { BlobEvent } from '../events/parseBlobEvent';
import type { Logger } from '../logging';
import type { ImageDocument, ImageStore } from '../store';
import { documentId } from '../store';
import { requireETag } from './ClaimHandle';
import { decide } from './decide';
import type { BlobOutcome, PipelineDeps } from './processBlobCreated';

const MAX_TRIES = 5;

/** `event` is a parsed BlobDeleted for the images container. A delete for a blob that exists changes nothing. */
export async function processBlobDeleted(event: BlobEvent, deps: PipelineDeps, log: Logger): Promise<BlobOutcome> {
  const id = documentId(event.container, event.blobName);
  const now = deps.now ?? ((): Date => new Date());
  for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
    const [stored, blob] = await Promise.all([deps.store.get(id), readBlobState(deps.images, event.blobName)]);
    const d = decide(event, stored, blob, now());
    if (d.action === 'ignore') {
      log.info('ignoring event', { eventId: event.id, subject: `${event.container}/${event.blobName}`, reason: d.reason });
      return { outcome: 'ignored', reason: d.reason };
    }
    if (stored === undefined || (d.action !== 'mark-deleted' && d.action !== 'already-deleted')) throw new Error(`unreachable: ${d.action} for a BlobDeleted event`);
    const marked = await markDeleted(deps.store, stored, now());
    if (marked !== 'conflict') {
      log.info('blob deleted: document marked deleted', { id });
      return { outcome: 'deleted', document: marked };
    }
  }
  throw new TransientError('in_flight', `Document ${id} kept changing while marking it deleted; retry later.`);
}

/** Marks `stored` deleted (keeping its last result for audits) IfMatch its etag; 'conflict' when it changed meanwhile. */
export async function markDeleted(store: ImageStore, stored: ImageDocument, now: Date): Promise<ImageDocument | 'conflict'> {
  if (stored.status === 'deleted') return stored;
  return store.replace({ ...stored, status: 'deleted', lease: null, updatedAt: now.toISOString() }, requireETag(stored));
}
