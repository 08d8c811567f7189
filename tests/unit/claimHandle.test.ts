/** The claim handle writes only conditionally: a document without an etag is refused loudly, before any write. */
import { describe, expect, it } from 'vitest';

import type { BlobEvent } from '../../shared/events';
import { ClaimHandle, freshDocument } from '../../shared/pipeline';
import type { ImageDocument, ImageStore } from '../../shared/store';

/** A store that records every write it is asked for. */
function recordingStore(): { store: ImageStore; writes: string[] } {
  const writes: string[] = [];
  const store = {
    create: (d: ImageDocument) => (writes.push('create'), Promise.resolve({ ...d, _etag: '"1"' })),
    replace: (d: ImageDocument, ifMatch: string) => (writes.push(`replace ${ifMatch}`), Promise.resolve({ ...d, _etag: '"2"' })),
    upsert: () => (writes.push('upsert'), Promise.reject(new Error('upsert must never be used'))),
  } as unknown as ImageStore;
  return { store, writes };
}

const event: BlobEvent = { id: 'e', type: 'Microsoft.Storage.BlobCreated', time: null, source: null, container: 'images', blobName: 'a.jpg', api: 'PutBlob', eTag: '"9"', contentType: null, contentLength: null, url: 'javascript:alert(1)', sequencer: 'ffff' };
const now = new Date('2026-12-01T00:00:00Z');
const lease = { owner: 'me', expiresAt: '2026-12-01T00:01:00Z' };
const fresh = freshDocument('id', 'images', 'a.jpg', { exists: true, eTag: '"9"', contentLength: 5, contentType: 'image/jpeg', metadata: {}, url: 'http://127.0.0.1:10000/acct/images/a.jpg' }, event, now);

describe('ClaimHandle', () => {
  it('builds the processing document from the blob, not from the event (url, sequencer)', () => {
    expect(fresh.blob).toEqual({ container: 'images', name: 'a.jpg', url: 'http://127.0.0.1:10000/acct/images/a.jpg', eTag: '"9"', contentLength: 5, contentType: 'image/jpeg', sequencer: null });
  });

  it('refuses to take over a stored document without an etag, writing nothing', async () => {
    const { store, writes } = recordingStore();
    const { _etag: _drop, ...noEtag } = { ...fresh, status: 'classified' as const, _etag: undefined };
    await expect(ClaimHandle.take(store, noEtag, fresh, false, lease, now)).rejects.toThrow(/no _etag/);
    expect(writes).toEqual([]);
  });

  it('writes every later step IfMatch the etag of its own last write', async () => {
    const { store, writes } = recordingStore();
    const claim = await ClaimHandle.take(store, { ...fresh, _etag: '"0"' }, fresh, false, lease, now);
    if (claim === 'conflict') throw new Error('expected a claim');
    await claim.update({ modelAttempts: 1 }, now);
    await claim.finish({ status: 'classified' }, now);
    expect(writes).toEqual(['replace "0"', 'replace "2"', 'replace "2"']);
  });
});
