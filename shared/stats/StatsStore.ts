/**
 * Per-day counter documents in the images container (partition key /id, like every other document there):
 * `stats-<day>-<shard>`, shards picked by image id so concurrent final writes rarely touch the same document.
 *
 * Why read-modify-write with IfMatch and not a patch `incr`: one result touches 15-30 counter paths (status,
 * profile, labels, tokens, cost, two histograms) and Cosmos DB allows at most 10 patch operations per request, and
 * exactly-once needs the "already counted?" check in the same atomic write. So each update reads the shard, skips
 * it when the result's key is already listed in `applied`, adds, and replaces IfMatch its etag; a 412 (another
 * writer in between) re-reads and tries again.
 */
import { createHash } from 'node:crypto';

import type { Container, SqlQuerySpec } from '@azure/cosmos';
import { StatusCodes } from '@azure/cosmos';

import { TransientError } from '../errors';
import type { ImageDocument } from '../store';
import { isCosmosError, toStoreError } from '../store';
import type { ResultCounters, ReviewEntry } from './statsCounters';
import { addCounters, countersOf, dayOf, emptyCounters, finishedAtOf, isCountable, normalizeCounters, resultKey, reviewEntryOf } from './statsCounters';

export interface StatsDayDocument {
  /** `stats-<YYYY-MM-DD>-<shard>`: no image id (32 hex), cache entry (`cache-`) or scan cursor can look like it. */
  id: string;
  type: 'statsDay';
  day: string;
  shard: number;
  /** Keys of the results counted here (resultKey): a second write of the same result finds its key and adds nothing. */
  applied: string[];
  counters: ResultCounters;
  /** Image id → the current review of the answer written that day; a changed review replaces its entry. */
  reviews: Record<string, ReviewEntry>;
  updatedAt: string;
  _etag?: string;
}

/** What a query for a range of days returns: counters, and reviews unless asked without them. */
export type StatsDayRow = Pick<StatsDayDocument, 'day' | 'counters'> & { reviews?: Record<string, ReviewEntry> };

export const STATS_SHARDS = 8;
const ID_PREFIX = 'stats-';
/** Lost races on one shard before giving up with a transient error (the caller's redelivery tries again). */
const MAX_TRIES = 12;

export function statsShardOf(imageId: string): number {
  return createHash('sha256').update(imageId).digest()[0]! % STATS_SHARDS;
}

export function statsDayId(day: string, shard: number): string {
  return `${ID_PREFIX}${day}-${shard}`;
}

export class StatsStore {
  readonly #container: Container;

  constructor(container: Container) {
    this.#container = container;
  }

  /**
   * Counts a final document once: true when this call added it, false when it was already counted (a redelivery,
   * a duplicate) or is not a result (processing, deleted). Throws TransientError when the store is unavailable.
   */
  async recordResult(doc: ImageDocument, now: Date = new Date()): Promise<boolean> {
    if (!isCountable(doc)) return false;
    const key = resultKey(doc);
    const add = countersOf(doc);
    return this.#update(dayOf(finishedAtOf(doc)), statsShardOf(doc.id), now, (d) => {
      if (d.applied.includes(key)) return false;
      d.applied.push(key);
      d.counters = addCounters(d.counters, add);
      return true;
    });
  }

  /**
   * Sets the image's review entry on the day its answer was written; the same or an older review changes nothing
   * (idempotent), a newer one replaces the entry (a changed review is adjusted, never counted twice).
   */
  async recordReview(doc: ImageDocument, now: Date = new Date()): Promise<boolean> {
    const entry = reviewEntryOf(doc);
    if (entry === undefined) return false;
    return this.#update(dayOf(finishedAtOf(doc)), statsShardOf(doc.id), now, (d) => {
      const prev = Object.hasOwn(d.reviews, doc.id) ? d.reviews[doc.id] : undefined;
      if (prev !== undefined && prev.reviewedAt >= entry.reviewedAt) return false;
      d.reviews = Object.fromEntries([...Object.entries(d.reviews).filter(([k]) => k !== doc.id), [doc.id, entry]]);
      return true;
    });
  }

  /** Every shard of the days from..to (inclusive, YYYY-MM-DD), with review entries when `withReviews`. */
  async readDays(from: string, to: string, withReviews: boolean): Promise<StatsDayRow[]> {
    const spec: SqlQuerySpec = {
      query: `SELECT c.day, c.counters${withReviews ? ', c.reviews' : ''} FROM c WHERE c.type = @type AND c.day >= @from AND c.day <= @to`,
      parameters: [
        { name: '@type', value: 'statsDay' },
        { name: '@from', value: from },
        { name: '@to', value: to },
      ],
    };
    try {
      const { resources } = await this.#container.items.query<StatsDayRow>(spec).fetchAll();
      return resources.map((r) => ({ ...r, counters: normalizeCounters(r.counters) }));
    } catch (e) {
      throw toStoreError(e, 'read the stats counters');
    }
  }

  /** Cost counted for one day (the budget's source). */
  async costOfDay(day: string): Promise<number> {
    const rows = await this.readDays(day, day, false);
    return rows.reduce((s, r) => s + r.counters.costUsd, 0);
  }

  async #update(day: string, shard: number, now: Date, change: (d: StatsDayDocument) => boolean): Promise<boolean> {
    const id = statsDayId(day, shard);
    for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
      const stored = await this.#read(id);
      const doc: StatsDayDocument = stored ?? { id, type: 'statsDay', day, shard, applied: [], counters: emptyCounters(), reviews: {}, updatedAt: now.toISOString() };
      if (!change(doc)) return false;
      doc.updatedAt = now.toISOString();
      const { _etag, ...body } = doc;
      try {
        if (_etag === undefined) await this.#container.items.create(body);
        else await this.#container.item(id, id).replace(body, { accessCondition: { type: 'IfMatch', condition: _etag } });
        return true;
      } catch (e) {
        // 409: another writer created the shard first; 412: another writer changed it since our read. Read again.
        if (!isCosmosError(e, StatusCodes.Conflict) && !isCosmosError(e, StatusCodes.PreconditionFailed)) throw toStoreError(e, `update stats ${id}`);
      }
      // Spread the retries of writers that collided, so they do not collide again in lockstep.
      await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    }
    throw new TransientError('store_unavailable', `The stats counter ${id} kept changing under ${MAX_TRIES} tries; the delivery will be retried.`);
  }

  async #read(id: string): Promise<StatsDayDocument | undefined> {
    try {
      const { resource } = await this.#container.item(id, id).read<StatsDayDocument>();
      if (resource?.type !== 'statsDay') return undefined;
      return { ...resource, applied: resource.applied ?? [], counters: normalizeCounters(resource.counters), reviews: resource.reviews ?? {} };
    } catch (e) {
      throw toStoreError(e, `read stats ${id}`);
    }
  }
}
