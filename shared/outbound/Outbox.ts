/**
 * Exactly once per document version, as far as a store and a remote receiver allow: the final write carries an
 * outbox mark (`outbound.pending`), the event is published after it, and a conditional write (IfMatch) clears the mark.
 * A redelivery of a published version finds the mark cleared and publishes nothing; a failed publish leaves it set for
 * the redelivery and the reconcile timer. A crash between the publish and the mark publishes that version again:
 * at-least-once, with the same event id each time (`<document id>:<version>`) for the receiver to drop duplicates.
 */
import type { SqlQuerySpec } from '@azure/cosmos';

import type { Logger } from '../logging';
import { silentLogger } from '../logging';
import type { ImageDocument, ImageStore } from '../store';
import type { OutboundMark } from './outboundEvent';
import { isOutboundStatus, outboundVersion, toCloudEvent } from './outboundEvent';
import type { OutboundPublisher } from './OutboundPublisher';

export type DeliverResult = 'published' | 'nothing-pending' | 'superseded';

const MAX_MARK_TRIES = 4;

export class Outbox {
  readonly #store: ImageStore;
  readonly #publishers: readonly OutboundPublisher[];
  readonly #log: Logger;

  constructor(store: ImageStore, publishers: readonly OutboundPublisher[], log: Logger = silentLogger) {
    this.#store = store;
    this.#publishers = publishers;
    this.#log = log;
  }

  /**
   * The mark for a final write of `next`. `previous` is the mark the document had before this version was claimed:
   * the same version already published stays published (a reprocess that got the same answer is not news).
   */
  markFor(next: Pick<ImageDocument, 'blob' | 'status' | 'profile' | 'result' | 'error' | 'model'>, previous: OutboundMark | null | undefined): OutboundMark | null {
    if (!isOutboundStatus(next.status)) return null;
    const version = outboundVersion(next);
    if (previous?.version === version && !previous.pending) return previous;
    return { version, pending: true, publishedAt: null };
  }

  /** Publishes `doc`'s pending version and clears the mark; throws when a publisher failed (the mark stays). */
  async deliver(doc: ImageDocument): Promise<DeliverResult> {
    const mark = doc.outbound;
    if (mark?.pending !== true) return 'nothing-pending';
    const event = toCloudEvent(doc, mark);
    if (event === undefined) return 'nothing-pending';
    for (const p of this.#publishers) await p.send([event]);
    let current: ImageDocument | undefined = doc;
    for (let attempt = 1; attempt <= MAX_MARK_TRIES && current !== undefined; attempt++) {
      if (current.outbound?.version !== mark.version || current.outbound.pending !== true) return 'superseded';
      // updatedAt is left alone: the mark is bookkeeping, not a change of the result.
      const written = await this.#store.replace({ ...current, outbound: { ...mark, pending: false, publishedAt: new Date().toISOString() } }, current._etag ?? '');
      if (written !== 'conflict') {
        this.#log.info('outbound event published', { id: doc.id, eventId: event.id, type: event.type, to: this.#publishers.map((x) => x.target).join(', ') });
        return 'published';
      }
      current = await this.#store.get(doc.id);
    }
    // Published but not marked: the next try publishes the same event id again, which receivers drop.
    return 'superseded';
  }

  /** Documents whose publish failed or was lost, oldest mark first; each one delivered, failures counted, none thrown. */
  async retryPending(o: { limit: number; olderThan: Date }): Promise<{ published: number; failed: number }> {
    const spec: SqlQuerySpec = {
      query: 'SELECT TOP @limit * FROM c WHERE c.type = @type AND c.outbound.pending = true AND c.updatedAt < @before ORDER BY c.updatedAt',
      parameters: [
        { name: '@limit', value: o.limit },
        { name: '@type', value: 'image' },
        { name: '@before', value: o.olderThan.toISOString() },
      ],
    };
    const docs = await this.#store.query(spec);
    let published = 0;
    let failed = 0;
    for (const d of docs) {
      try {
        if ((await this.deliver(d)) === 'published') published++;
      } catch (e) {
        failed++;
        this.#log.warn('outbound event still not published; kept for the next run', { id: d.id, error: e instanceof Error ? e.message : String(e) });
      }
    }
    return { published, failed };
  }
}
