/** Claims an image document for one blob version with an etag-conditioned write, so concurrent deliveries agree on who works. */
import type { BlobEvent } from '../events';
import type { ImageDocument, ImageStore, Lease } from '../store';
import { FINAL_STATUSES } from '../store';

export type ClaimResult =
  /** This blob version already has a final document: a redelivery; nothing to do. */
  | { kind: 'duplicate'; doc: ImageDocument }
  /** The event describes an older write than the one stored (it arrived late): ignore it. */
  | { kind: 'stale'; doc: ImageDocument }
  /** Another worker holds a live lease on this version. */
  | { kind: 'in-flight'; doc: ImageDocument }
  /** We hold the lease: `doc` is `processing` and carries the `_etag` the final write must match. */
  | { kind: 'claimed'; doc: ImageDocument };

const MAX_ATTEMPTS = 5;

/** Event Grid sequencers are fixed-width hex strings that order writes to one blob; compare them as strings. */
export function isOlderSequencer(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return false;
  const n = Math.max(a.length, b.length);
  return a.padStart(n, '0') < b.padStart(n, '0');
}

export function leaseIsLive(lease: Lease | null | undefined, now: Date): boolean {
  return lease !== null && lease !== undefined && Date.parse(lease.expiresAt) > now.getTime();
}

/**
 * What the stored document says about this event before any work: a finished version (`duplicate`), a late event
 * for an older version (`stale`), another live claim on this version (`in-flight`), or nothing (`undefined`: go on).
 */
export function settledBy(existing: ImageDocument, event: BlobEvent, owner: string, now: Date): Exclude<ClaimResult['kind'], 'claimed'> | undefined {
  const sameVersion = event.eTag !== null && existing.blob.eTag === event.eTag;
  if (sameVersion && FINAL_STATUSES.includes(existing.status)) return 'duplicate';
  if (!sameVersion && isOlderSequencer(event.sequencer, existing.blob.sequencer)) return 'stale';
  if (sameVersion && existing.status === 'processing' && existing.lease?.owner !== owner && leaseIsLive(existing.lease, now)) return 'in-flight';
  return undefined;
}

/**
 * `fresh` is the processing document to write (blob facts from the event, no result). Decides against what is stored,
 * then writes with create (409) or IfMatch (412); on a lost race it re-reads and decides again.
 */
export async function claimImage(store: ImageStore, fresh: ImageDocument, event: BlobEvent, owner: string, leaseMs: number, now: () => Date): Promise<ClaimResult> {
  for (let attempt = 1; ; attempt++) {
    const existing = await store.get(fresh.id);
    const t = now();
    const lease: Lease = { owner, expiresAt: new Date(t.getTime() + leaseMs).toISOString() };
    let written: ImageDocument | 'conflict';
    if (existing === undefined) {
      written = await store.create({ ...fresh, status: 'processing', lease, attempts: 1, firstAttemptAt: t.toISOString(), lastError: null, updatedAt: t.toISOString() });
    } else {
      const settled = settledBy(existing, event, owner, t);
      if (settled !== undefined) return { kind: settled, doc: existing };
      const sameVersion = event.eTag !== null && existing.blob.eTag === event.eTag;
      // A newer version, or this version with an expired lease (its worker died): take it over.
      const next: ImageDocument = {
        ...fresh,
        status: 'processing',
        lease,
        attempts: sameVersion ? (existing.attempts ?? 0) + 1 : 1,
        firstAttemptAt: sameVersion ? (existing.firstAttemptAt ?? t.toISOString()) : t.toISOString(),
        lastError: sameVersion ? (existing.lastError ?? null) : null,
        createdAt: existing.createdAt,
        updatedAt: t.toISOString(),
      };
      written = existing._etag === undefined ? await store.upsert(next) : await store.replace(next, existing._etag);
    }
    if (written !== 'conflict') return { kind: 'claimed', doc: written };
    // Still losing races after several tries: someone is actively writing; let Event Grid try again later.
    if (attempt >= MAX_ATTEMPTS) return { kind: 'in-flight', doc: (await store.get(fresh.id)) ?? fresh };
  }
}
