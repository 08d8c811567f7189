/** decide(event, stored, blob, now) as a table, and as a property over any sequence of duplicate, late, overwrite and delete events. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { BlobState } from '../../shared/blob';
import type { BlobEvent } from '../../shared/events';
import { BLOB_CREATED, BLOB_DELETED } from '../../shared/events';
import type { Decision } from '../../shared/pipeline';
import { decide } from '../../shared/pipeline';
import type { ImageDocument, ImageStatus } from '../../shared/store';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const LIVE = { owner: 'other', expiresAt: '2026-12-01T12:01:00.000Z' };
const EXPIRED = { owner: 'other', expiresAt: '2026-12-01T11:59:00.000Z' };

function ev(type: string, eTag: string | null, extra: Partial<BlobEvent> = {}): BlobEvent {
  return { id: 'e', type, time: null, source: null, container: 'images', blobName: 'pets/a.jpg', api: type === BLOB_CREATED ? 'PutBlob' : 'DeleteBlob', eTag, contentType: 'image/jpeg', contentLength: 1, url: null, sequencer: null, ...extra };
}
const created = (eTag: string | null, extra: Partial<BlobEvent> = {}): BlobEvent => ev(BLOB_CREATED, eTag, extra);
const deleted = (): BlobEvent => ev(BLOB_DELETED, null);
const blob = (eTag: string): BlobState => ({ exists: true, eTag, contentLength: 10, contentType: 'image/jpeg', metadata: {}, url: 'http://127.0.0.1/acct/images/pets/a.jpg' });
const GONE: BlobState = { exists: false };

function doc(eTag: string, status: ImageStatus, lease: ImageDocument['lease'] = null, sequencer: string | null = null): ImageDocument {
  return {
    id: 'id',
    type: 'image',
    blob: { container: 'images', name: 'pets/a.jpg', url: 'u', eTag, contentLength: 10, contentType: 'image/jpeg', sequencer },
    profile: null,
    status,
    result: null,
    labels: [],
    confidence: null,
    confidenceSource: null,
    model: null,
    usage: { promptTokens: 0, completionTokens: 0, costUsd: 0, modelCalls: 0 },
    timings: { downloadMs: null, preprocessMs: null, modelMs: null, totalMs: 0 },
    image: null,
    error: null,
    lease,
    source: { eventId: null, eventTime: null },
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    _etag: '"doc"',
  };
}

describe('decide', () => {
  const rows: Array<[string, BlobEvent, ImageDocument | undefined, BlobState, Decision['action'], string?]> = [
    ['first event for a blob', created('"1"'), undefined, blob('"1"'), 'claim', 'first'],
    ['bare eTag in the event matches the quoted one', created('1'), undefined, blob('"1"'), 'claim', 'first'],
    ['redelivery of a finished version', created('"1"'), doc('"1"', 'classified'), blob('"1"'), 'duplicate'],
    ['redelivery of a rejected version', created('"1"'), doc('"1"', 'rejected'), blob('"1"'), 'duplicate'],
    ['a live claim on this version', created('"1"'), doc('"1"', 'processing', LIVE), blob('"1"'), 'in-flight'],
    ['an expired claim on this version (its worker died)', created('"1"'), doc('"1"', 'processing', EXPIRED), blob('"1"'), 'claim', 'take-over'],
    ['a late event for an overwritten version', created('"1"'), doc('"2"', 'classified'), blob('"2"'), 'superseded'],
    ['an event for a version not stored yet, the blob moved on', created('"2"'), doc('"1"', 'classified'), blob('"3"'), 'superseded'],
    ['the overwrite’s event', created('"2"'), doc('"1"', 'classified'), blob('"2"'), 'claim', 'new-version'],
    ['the overwrite’s event while the old version is claimed', created('"2"'), doc('"1"', 'processing', LIVE), blob('"2"'), 'claim', 'new-version'],
    ['a forged sequencer stored does not hide the overwrite', created('"2"', { sequencer: '0001' }), doc('"1"', 'classified', null, 'f'.repeat(32)), blob('"2"'), 'claim', 'new-version'],
    ['a forged sequencer in the event changes nothing', created('"1"', { sequencer: 'f'.repeat(32) }), doc('"2"', 'classified'), blob('"2"'), 'superseded'],
    ['no eTag (reconcile), no document', created(null), undefined, blob('"1"'), 'claim', 'first'],
    ['no eTag (reconcile), finished current version', created(null), doc('"1"', 'needs_review'), blob('"1"'), 'duplicate'],
    ['no eTag (reconcile), document describes old bytes', created(null), doc('"1"', 'classified'), blob('"2"'), 'claim', 'new-version'],
    ['no eTag (reconcile) never takes over a live claim on another version', created(null), doc('"1"', 'processing', LIVE), blob('"2"'), 'in-flight'],
    ['no eTag (reconcile) takes over an expired claim', created(null), doc('"1"', 'processing', EXPIRED), blob('"2"'), 'claim', 'new-version'],
    ['a blob re-created with the eTag of a deleted document', created('"1"'), doc('"1"', 'deleted'), blob('"1"'), 'claim', 'new-version'],
    ['created, but the blob is gone and nothing is stored', created('"1"'), undefined, GONE, 'ignore'],
    ['created, but the blob is gone', created('"1"'), doc('"1"', 'processing', LIVE), GONE, 'mark-deleted'],
    ['an incomplete write', created('"1"', { api: 'PutBlock' }), undefined, blob('"1"'), 'ignore'],
    ['another event type', ev('Microsoft.Storage.BlobTierChanged', '"1"'), undefined, blob('"1"'), 'ignore'],
    ['a delete for a blob that still exists', deleted(), doc('"1"', 'classified'), blob('"1"'), 'ignore'],
    ['a delete for a blob that is gone', deleted(), doc('"1"', 'classified'), GONE, 'mark-deleted'],
    ['a delete redelivered', deleted(), doc('"1"', 'deleted'), GONE, 'already-deleted'],
    ['a delete with no document', deleted(), undefined, GONE, 'ignore'],
  ];
  it.each(rows)('%s', (_name, event, stored, state, action, kind) => {
    const d = decide(event, stored, state, NOW);
    expect(d.action).toBe(action);
    if (kind !== undefined) expect(d).toMatchObject({ kind });
  });
});

/**
 * A model of storage and the store, driven only by decide: a claim is written atomically and finished at once or
 * left to "crash" (a live lease that expires later). Any interleaving of writes, deletes, duplicate and late
 * deliveries, once every event was delivered after the last lease expired, leaves one document describing the
 * blob's current bytes (or `deleted`, or none when the blob never had one).
 */
type Op = { kind: 'write' } | { kind: 'delete' } | { kind: 'deliver'; pick: number; duplicate: boolean; crash: boolean } | { kind: 'tick' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant<Op>({ kind: 'write' }),
  fc.constant<Op>({ kind: 'delete' }),
  fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat(), duplicate: fc.boolean(), crash: fc.boolean() }),
  fc.constant<Op>({ kind: 'tick' }),
);

describe('decide as a property', () => {
  it('any sequence of duplicate, late, overwrite and delete events leaves one document describing the blob’s current bytes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 40 }), (ops, drainOrder) => {
        let version = 0;
        let current: BlobState = GONE;
        let stored: ImageDocument | undefined;
        let t = NOW.getTime();
        const queue: BlobEvent[] = [];
        const deliver = (e: BlobEvent, crash: boolean): void => {
          const d = decide(e, stored, current, new Date(t));
          if (d.action === 'claim') {
            const eTag = (current as Extract<BlobState, { exists: true }>).eTag;
            stored = { ...doc(eTag, crash ? 'processing' : 'classified', crash ? { owner: 'w', expiresAt: new Date(t + 60_000).toISOString() } : null) };
            // A worker that died never answered Event Grid, which delivers the event again.
            if (crash) queue.push(e);
          } else if (d.action === 'mark-deleted' && stored !== undefined) {
            stored = { ...stored, status: 'deleted', lease: null };
          } else if (d.action === 'in-flight') {
            queue.push(e); // handed back: Event Grid delivers it again later
          }
        };
        for (const o of ops) {
          if (o.kind === 'write') {
            version++;
            current = blob(`"${version}"`);
            queue.push(created(`"${version}"`));
          } else if (o.kind === 'delete') {
            if (current.exists) queue.push(deleted());
            current = GONE;
          } else if (o.kind === 'tick') {
            t += 30_000;
          } else if (queue.length > 0) {
            const i = o.pick % queue.length;
            const e = queue[i] as BlobEvent;
            if (!o.duplicate) queue.splice(i, 1);
            deliver(e, o.crash);
          }
        }
        // Every lease has run out; Event Grid delivers what is left, in any order, without crashes.
        t += 120_000;
        for (let n = 0; queue.length > 0 && n < 1000; n++) {
          const i = (drainOrder[n % Math.max(1, drainOrder.length)] ?? 0) % queue.length;
          const e = queue.splice(i, 1)[0] as BlobEvent;
          deliver(e, false);
        }
        expect(queue).toHaveLength(0);
        if (current.exists) {
          expect(stored?.blob.eTag).toBe(current.eTag);
          expect(stored?.status).toBe('classified');
        } else if (stored !== undefined) {
          expect(stored.status).toBe('deleted');
        }
      }),
      { numRuns: 500 },
    );
  });
});
