/** Answers by content: the same bytes, profile version and model are paid for once, across every instance. */
import { createHash } from 'node:crypto';

import type { Container } from '@azure/cosmos';
import { StatusCodes } from '@azure/cosmos';

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
  answer: (Omit<ModelClassification, 'calls'> & { image: { width: number; height: number; format: string; sha256: string } }) | null;
  /** The image document whose model call produced the answer. */
  sourceDocumentId: string | null;
  createdAt: string;
  updatedAt: string;
  _etag?: string;
}

export type CacheClaim =
  | { kind: 'hit'; entry: CacheEntry }
  /** We hold the pending entry: compute, then `fulfil` or `release`. */
  | { kind: 'claimed'; entry: CacheEntry }
  /** Another worker is computing the same answer right now. */
  | { kind: 'busy'; entry: CacheEntry };

export function cacheEntryId(key: CacheKey): string {
  const h = createHash('sha256').update(JSON.stringify([key.sha256, key.profile, key.profileVersion, key.provider, key.deployment])).digest('hex');
  return `cache-${h.slice(0, 40)}`;
}

const MAX_ATTEMPTS = 4;

export class ResultCache {
  readonly #container: Container;

  constructor(container: Container) {
    this.#container = container;
  }

  /**
   * A ready answer, or a claim to compute it (created pending with a lease; an expired lease is taken over), or
   * `busy` when another worker holds a live lease. Concurrent callers race through create (409) and IfMatch (412).
   */
  async claim(key: CacheKey, owner: string, leaseMs: number, now: Date = new Date()): Promise<CacheClaim> {
    const id = cacheEntryId(key);
    for (let attempt = 1; ; attempt++) {
      const existing = await this.read(id);
      const lease: Lease = { owner, expiresAt: new Date(now.getTime() + leaseMs).toISOString() };
      if (existing === undefined) {
        const entry: CacheEntry = { id, type: 'cache', key, status: 'pending', lease, answer: null, sourceDocumentId: null, createdAt: now.toISOString(), updatedAt: now.toISOString() };
        const created = await this.write(() => this.#container.items.create<CacheEntry>(entry), id);
        if (created !== 'conflict') return { kind: 'claimed', entry: created };
      } else if (existing.status === 'ready') {
        return { kind: 'hit', entry: existing };
      } else if (existing.lease !== null && existing.lease.owner !== owner && Date.parse(existing.lease.expiresAt) > now.getTime()) {
        return { kind: 'busy', entry: existing };
      } else {
        const taken = await this.replace({ ...existing, lease, updatedAt: now.toISOString() }, existing._etag);
        if (taken !== 'conflict') return { kind: 'claimed', entry: taken };
      }
      if (attempt >= MAX_ATTEMPTS) return { kind: 'busy', entry: existing ?? (await this.read(id)) ?? ({ id } as CacheEntry) };
    }
  }

  /** Stores the answer for everyone; only the holder of the claim can (IfMatch), so a taken-over claim does not clobber. */
  async fulfil(claimed: CacheEntry, answer: CacheEntry['answer'], sourceDocumentId: string, now: Date = new Date()): Promise<void> {
    await this.replace({ ...claimed, status: 'ready', lease: null, answer, sourceDocumentId, updatedAt: now.toISOString() }, claimed._etag);
  }

  /** Gives the claim up (the computation failed) so the next try computes afresh. */
  async release(claimed: CacheEntry): Promise<void> {
    try {
      await this.#container.item(claimed.id, claimed.id).delete(claimed._etag === undefined ? {} : { accessCondition: { type: 'IfMatch', condition: claimed._etag } });
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

  private async replace(entry: CacheEntry, ifMatch: string | undefined): Promise<CacheEntry | 'conflict'> {
    const { _etag: _ignored, ...body } = entry;
    return this.write(
      () => this.#container.item(entry.id, entry.id).replace<CacheEntry>(body as CacheEntry, ifMatch === undefined ? {} : { accessCondition: { type: 'IfMatch', condition: ifMatch } }),
      entry.id,
    );
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
