/**
 * A claim on one blob version's document. Every write through it is conditional on the etag of the claim's last
 * write (IfMatch): if anyone else wrote in between (a takeover after our lease ran out, a newer version, a delete),
 * the write is refused and the handle says so, so a slow worker can never overwrite a newer truth.
 */
import type { BlobState } from '../blob/readBlobState';
import type { BlobEvent } from '../events/parseBlobEvent';
import type { ImageDocument, ImageStore, Lease } from '../store';

type Exists = Extract<BlobState, { exists: true }>;

export class ClaimHandle {
  readonly #store: ImageStore;
  #doc: ImageDocument;
  #etag: string;

  private constructor(store: ImageStore, doc: ImageDocument) {
    this.#store = store;
    this.#doc = doc;
    this.#etag = requireETag(doc);
  }

  /**
   * Writes the processing document for the blob's current version: create when nothing is stored (409 = someone
   * else got there first), else replace IfMatch the stored etag (412 = someone wrote in between). 'conflict' means
   * decide again on fresh reads.
   */
  static async take(store: ImageStore, stored: ImageDocument | undefined, fresh: ImageDocument, sameVersion: boolean, lease: Lease, now: Date): Promise<ClaimHandle | 'conflict'> {
    const at = now.toISOString();
    if (stored === undefined) {
      const created = await store.create({ ...fresh, status: 'processing', lease, attempts: 1, modelAttempts: 0, firstAttemptAt: at, lastError: null, updatedAt: at });
      return created === 'conflict' ? 'conflict' : new ClaimHandle(store, created);
    }
    const next: ImageDocument = {
      ...fresh,
      status: 'processing',
      lease,
      // Attempts, paid model calls and the first attempt belong to one version: a new version starts afresh.
      attempts: sameVersion ? (stored.attempts ?? 0) + 1 : 1,
      modelAttempts: sameVersion ? (stored.modelAttempts ?? 0) : 0,
      firstAttemptAt: sameVersion ? (stored.firstAttemptAt ?? at) : at,
      lastError: sameVersion ? (stored.lastError ?? null) : null,
      createdAt: stored.createdAt,
      updatedAt: at,
    };
    const replaced = await store.replace(next, requireETag(stored));
    return replaced === 'conflict' ? 'conflict' : new ClaimHandle(store, replaced);
  }

  get doc(): ImageDocument {
    return this.#doc;
  }

  /** A conditional intermediate write (e.g. the paid-attempt count); false when the claim was lost. */
  async update(patch: Partial<ImageDocument>, now: Date): Promise<boolean> {
    const written = await this.#store.replace({ ...this.#doc, ...patch, updatedAt: now.toISOString() }, this.#etag);
    if (written === 'conflict') return false;
    this.#doc = written;
    this.#etag = requireETag(written);
    return true;
  }

  /** The final write (lease cleared); 'lost' when someone else wrote since our last write. */
  async finish(patch: Partial<ImageDocument>, now: Date): Promise<ImageDocument | 'lost'> {
    const ok = await this.update({ ...patch, lease: null, lastError: null }, now);
    return ok ? this.#doc : 'lost';
  }

  /** Ends the lease now, keeping the document `processing` with the fault, so a redelivery can take it at once. */
  async release(patch: Partial<ImageDocument>, lastError: ImageDocument['lastError'], now: Date): Promise<boolean> {
    const lease = this.#doc.lease ?? null;
    return this.update({ ...patch, lease: lease === null ? null : { ...lease, expiresAt: now.toISOString() }, lastError: lastError ?? this.#doc.lastError ?? null }, now);
  }
}

/** A processing document for the blob's current version; every blob field comes from storage, none from the event. */
export function freshDocument(id: string, container: string, name: string, blob: Exists, event: BlobEvent, now: Date): ImageDocument {
  return {
    id,
    type: 'image',
    blob: { container, name, url: blob.url, eTag: blob.eTag, contentLength: blob.contentLength, contentType: blob.contentType, sequencer: null },
    profile: null,
    status: 'processing',
    result: null,
    labels: [],
    confidence: null,
    confidenceSource: null,
    model: null,
    usage: { promptTokens: 0, completionTokens: 0, costUsd: 0, modelCalls: 0 },
    timings: { downloadMs: null, preprocessMs: null, modelMs: null, totalMs: 0 },
    image: null,
    error: null,
    source: { eventId: event.id, eventTime: event.time },
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

/** Documents read back from Cosmos always carry `_etag`; one without cannot be written conditionally, so refuse loudly. */
export function requireETag(doc: ImageDocument): string {
  if (doc._etag === undefined || doc._etag === '') throw new Error(`Document ${doc.id} has no _etag: refusing an unconditional write that could overwrite a newer state`);
  return doc._etag;
}
