/**
 * What a reviewer looks at next: `needs_review` images first, then classified ones, each least confident first, never
 * one already reviewed, and never one another reviewer holds. Holding is a short lease on the document
 * (`reviewLease`), taken with a conditional write (IfMatch), so two reviewers asking at once get different images.
 * The queries are single-field ORDER BY with TOP, which Cosmos DB and the local emulator server both run.
 */
import type { SqlQuerySpec } from '@azure/cosmos';

import type { ImageDocument, ImageStore, Lease } from '../store';

export interface ReviewQueueOptions {
  leaseMs: number;
  now?: () => Date;
}

export interface NextForReview {
  doc: ImageDocument;
  lease: Lease;
}

/** Candidates looked at per status per call: enough to get past what other reviewers hold. */
const CANDIDATES = 50;
const QUEUE_STATUSES = ['needs_review', 'classified'] as const;

export class ReviewQueue {
  readonly #store: ImageStore;
  readonly #leaseMs: number;
  readonly #now: () => Date;

  constructor(store: ImageStore, o: ReviewQueueOptions) {
    this.#store = store;
    this.#leaseMs = o.leaseMs;
    this.#now = o.now ?? ((): Date => new Date());
  }

  /**
   * The next image for `reviewer` (a stable identity: the signed-in object id, or the key holder's name), leased to
   * them; undefined when nothing is left. An image they already hold comes back first (a reload does not lose it);
   * ids in `skip` (the ones they passed over in this session) are not offered again.
   */
  async next(reviewer: string, o: { skip?: readonly string[]; profile?: string } = {}): Promise<NextForReview | undefined> {
    const skip = new Set(o.skip ?? []);
    for (const status of QUEUE_STATUSES) {
      const candidates = await this.#store.query<ImageDocument>(queueQuery(status, o.profile));
      const now = this.#now();
      const open = candidates.filter((d) => !skip.has(d.id) && isReviewable(d) && !heldByOther(d, reviewer, now));
      // Resume what this reviewer holds before taking anything new.
      open.sort((a, b) => Number(heldBy(b, reviewer, now)) - Number(heldBy(a, reviewer, now)));
      for (const d of open) {
        const lease: Lease = { owner: reviewer, expiresAt: new Date(now.getTime() + this.#leaseMs).toISOString() };
        // updatedAt stays: the lease is bookkeeping, not a change of the result.
        const taken = await this.#store.replace({ ...d, reviewLease: lease }, d._etag ?? '');
        if (taken !== 'conflict') return { doc: taken, lease };
        // Someone else wrote it in between (another reviewer's lease, a review, a reprocess): try the next one.
      }
    }
    return undefined;
  }

  /** Gives a held image back at once (the reviewer skipped it); false when they did not hold it. */
  async release(id: string, reviewer: string): Promise<boolean> {
    const d = await this.#store.get(id);
    if (d?.reviewLease?.owner !== reviewer) return false;
    return (await this.#store.replace({ ...d, reviewLease: null }, d._etag ?? '')) !== 'conflict';
  }
}

function queueQuery(status: (typeof QUEUE_STATUSES)[number], profile: string | undefined): SqlQuerySpec {
  return {
    query: `SELECT TOP @n * FROM c WHERE c.type = @type AND c.status = @status AND (NOT IS_DEFINED(c.review) OR IS_NULL(c.review))${profile === undefined ? '' : ' AND c.profile.name = @profile'} ORDER BY c.confidence`,
    parameters: [
      { name: '@n', value: CANDIDATES },
      { name: '@type', value: 'image' },
      { name: '@status', value: status },
      ...(profile === undefined ? [] : [{ name: '@profile', value: profile }]),
    ],
  };
}

function isReviewable(d: ImageDocument): boolean {
  return d.profile !== null && d.result !== null && (d.review === null || d.review === undefined);
}

function heldBy(d: ImageDocument, reviewer: string, now: Date): boolean {
  return d.reviewLease?.owner === reviewer && Date.parse(d.reviewLease.expiresAt) > now.getTime();
}

function heldByOther(d: ImageDocument, reviewer: string, now: Date): boolean {
  const l = d.reviewLease;
  return l !== null && l !== undefined && l.owner !== reviewer && Date.parse(l.expiresAt) > now.getTime();
}
