/** Answers by content: the same bytes, profile version and model are paid for once, across every instance. */
import { createHash } from 'node:crypto';

import type { Container } from '@azure/cosmos';
import { StatusCodes } from '@azure/cosmos';

import { TransientError } from '../errors';
import type { ModelClassification } from '../model/classification';
import type { Lease } from './imageDocument';
import { isCosmosError } from './isCosmosError';
import { toStoreError } from './toStoreError';

export interface CacheKey {
  sha256: string;
  profile: string;
  profileVersion: string;
  provider: string;
  deployment: string;
}

/** Stored in the images container beside the image documents (`type: 'cache'`; the API never lists these). */
export interface CacheEntry {
  id: string;
  type: 'cache';
  key: CacheKey;
  status: 'pending' | 'ready';
  /** While pending: who is computing the answer. */
  lease: Lease | null;
  /** `answer.model.reportedModel` is the model version the service reported for it; another version's answer is not reused. */
  answer: (Omit<ModelClassification, 'calls'> & { image: { width: number; height: number; format: string; sha256: string } }) | null;
  /** The image document whose model call produced the answer. */
  sourceDocumentId: string | null;
  createdAt: string;
  updatedAt: string;
  /** Seconds Cosmos DB keeps the entry after its last write (CACHE_TTL_DAYS); the emulator ignores it (sweepCache). */
  ttl?: number;
  _etag?: string;
}

/**
 * What getOrCompute gives back: a stored answer (no model call), or what `compute` returned. With `detachWrite`,
 * `written` settles when the answer is stored (it never rejects: a failure goes to onWriteError).
 */
export type CacheOutcome<T> = { kind: 'hit'; entry: CacheEntry } | { kind: 'computed'; value: T; written?: Promise<void> };

export interface GetOrComputeOptions {
  /** Who computes (a lease owner id). */
  owner: string;
  leaseMs: number;
  now: () => Date;
  /**
   * The model version the service reports now (the classifier's last `model`), or null when not yet known. A ready
   * answer reported by another version is a miss: recomputed and replaced.
   */
  reportedModel: string | null;
  /** Where a failed cache write is reported; the computed answer is still returned. */
  onWriteError?: (e: unknown) => void;
  /**
   * Return as soon as `compute` has, with the answer's write still under way (`written`), so the caller can write
   * its own result alongside it instead of after it. Default false: the write is done when getOrCompute returns.
   */
  detachWrite?: boolean;
}

type Claim = { kind: 'hit'; entry: CacheEntry } | { kind: 'claimed'; entry: CacheEntry } | { kind: 'busy'; entry: CacheEntry | undefined };

export function cacheEntryId(key: CacheKey): string {
  const h = createHash('sha256').update(JSON.stringify([key.sha256, key.profile, key.profileVersion, key.provider, key.deployment])).digest('hex');
  return `cache-${h.slice(0, 40)}`;
}

const MAX_ATTEMPTS = 4;

export class ResultCache {
  readonly #container: Container;
  readonly #ttl: { ttl?: number };

  constructor(container: Container, o: { ttlSeconds?: number } = {}) {
    this.#container = container;
    this.#ttl = o.ttlSeconds === undefined ? {} : { ttl: o.ttlSeconds };
  }

  /**
   * The one way to use the cache: a ready answer for `key` is returned; otherwise this caller claims the entry
   * (pending, with a lease; an expired lease or an answer of another model version is taken over), runs `compute`,
   * and stores its answer for everyone. Another worker computing the same key right now is a TransientError
   * `in_flight` (its answer is reused on redelivery). A failing `compute` frees the entry and rethrows.
   */
  async getOrCompute<T>(key: CacheKey, o: GetOrComputeOptions, compute: () => Promise<{ value: T; answer: NonNullable<CacheEntry['answer']>; sourceDocumentId: string }>): Promise<CacheOutcome<T>> {
    const claim = await this.claim(key, o);
    if (claim.kind === 'hit') return claim;
    if (claim.kind === 'busy') {
      throw new TransientError('in_flight', 'An image with identical bytes is being classified right now; its answer will be reused on retry.', { retryAfterMs: 10_000 });
    }
    let computed: Awaited<ReturnType<typeof compute>>;
    try {
      computed = await compute();
    } catch (e) {
      await this.release(claim.entry).catch(() => undefined);
      throw e;
    }
    const at = o.now().toISOString();
    const written = this.replace({ ...claim.entry, status: 'ready', lease: null, answer: computed.answer, sourceDocumentId: computed.sourceDocumentId, updatedAt: at }, claim.entry._etag).then(
      (stored) => {
        if (stored === 'conflict') o.onWriteError?.(new Error(`cache entry ${claim.entry.id} was taken over while computing; the answer was not stored`));
      },
      (e: unknown) => o.onWriteError?.(e),
    );
    if (o.detachWrite === true) return { kind: 'computed', value: computed.value, written };
    await written;
    return { kind: 'computed', value: computed.value };
  }

  private async claim(key: CacheKey, o: GetOrComputeOptions): Promise<Claim> {
    const id = cacheEntryId(key);
    for (let attempt = 1; ; attempt++) {
      const now = o.now();
      const lease: Lease = { owner: o.owner, expiresAt: new Date(now.getTime() + o.leaseMs).toISOString() };
      const pending = (): CacheEntry => ({ id, type: 'cache', key, status: 'pending', lease, answer: null, sourceDocumentId: null, createdAt: now.toISOString(), updatedAt: now.toISOString(), ...this.#ttl });
      // New bytes are the usual case for a new upload: the create is the lookup (one round trip instead of a read
      // then a create); only when an entry exists (409) is it read, costing a hit one round trip more.
      if (attempt === 1) {
        const created = await this.write(() => this.#container.items.create<CacheEntry>(pending()), id);
        if (created !== 'conflict') return { kind: 'claimed', entry: created };
      }
      const existing = await this.read(id);
      if (existing === undefined) {
        // Deleted since the 409 (a released claim): create it again.
        const created = await this.write(() => this.#container.items.create<CacheEntry>(pending()), id);
        if (created !== 'conflict') return { kind: 'claimed', entry: created };
      } else if (existing.status === 'ready' && existing.answer !== null && sameModelVersion(existing, o.reportedModel)) {
        return { kind: 'hit', entry: existing };
      } else if (existing.status === 'pending' && existing.lease !== null && existing.lease.owner !== o.owner && Date.parse(existing.lease.expiresAt) > now.getTime()) {
        return { kind: 'busy', entry: existing };
      } else {
        // Pending with an expired lease (its worker died), or ready from another model version: take it over.
        const taken = await this.replace({ ...existing, status: 'pending', lease, answer: null, sourceDocumentId: null, updatedAt: now.toISOString() }, existing._etag);
        if (taken !== 'conflict') return { kind: 'claimed', entry: taken };
      }
      if (attempt >= MAX_ATTEMPTS) return { kind: 'busy', entry: existing };
    }
  }

  /** Gives the claim up (the computation failed) so the next try computes afresh; only our own version is deleted. */
  private async release(claimed: CacheEntry): Promise<void> {
    try {
      await this.#container.item(claimed.id, claimed.id).delete({ accessCondition: { type: 'IfMatch', condition: requireETag(claimed.id, claimed._etag) } });
    } catch (e) {
      if (isCosmosError(e, StatusCodes.NotFound) || isCosmosError(e, StatusCodes.PreconditionFailed)) return;
      throw toStoreError(e, `release cache entry ${claimed.id}`);
    }
  }

  private async read(id: string): Promise<CacheEntry | undefined> {
    try {
      const { resource } = await this.#container.item(id, id).read<CacheEntry>();
      return resource?.type === 'cache' ? resource : undefined;
    } catch (e) {
      throw toStoreError(e, `read cache entry ${id}`);
    }
  }

  /** Always conditional: an entry read back from Cosmos has an `_etag`, and one without is refused loudly. */
  private async replace(entry: CacheEntry, ifMatch: string | undefined): Promise<CacheEntry | 'conflict'> {
    const { _etag: _ignored, ...rest } = entry;
    const body = { ...rest, ...this.#ttl };
    const condition = requireETag(entry.id, ifMatch);
    return this.write(() => this.#container.item(entry.id, entry.id).replace<CacheEntry>(body as CacheEntry, { accessCondition: { type: 'IfMatch', condition } }), entry.id);
  }

  private async write(op: () => Promise<{ resource?: CacheEntry | undefined }>, id: string): Promise<CacheEntry | 'conflict'> {
    try {
      const { resource } = await op();
      if (resource === undefined) throw new Error(`Cosmos DB returned no cache entry for ${id}`);
      return resource;
    } catch (e) {
      if (isCosmosError(e, StatusCodes.Conflict) || isCosmosError(e, StatusCodes.PreconditionFailed)) return 'conflict';
      throw toStoreError(e, `write cache entry ${id}`);
    }
  }
}

/** A ready answer is reusable when its reported model is the one the service reports now (or none is known yet). */
function sameModelVersion(entry: CacheEntry, reportedModel: string | null): boolean {
  return reportedModel === null || (entry.answer?.model.reportedModel ?? null) === reportedModel;
}

function requireETag(id: string, etag: string | undefined): string {
  if (etag === undefined || etag === '') throw new Error(`Cache entry ${id} has no _etag: refusing an unconditional write`);
  return etag;
}
