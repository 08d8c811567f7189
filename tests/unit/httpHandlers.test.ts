import { describe, expect, it } from 'vitest';

import { listImagesHttp, MAX_PAGE, readBodyLimited } from '../../shared/http';
import { silentLogger } from '../../shared/logging';
import type { ImageStore, ListFilter } from '../../shared/store';

function recordingStore(): { store: ImageStore; filters: ListFilter[] } {
  const filters: ListFilter[] = [];
  const store = { list: (f: ListFilter) => (filters.push(f), Promise.resolve({ items: [], continuationToken: null })) } as unknown as ImageStore;
  return { store, filters };
}

const ctx = { params: {}, log: silentLogger };

describe('listImagesHttp', () => {
  it('caps the page size and defaults it', async () => {
    const { store, filters } = recordingStore();
    expect((await listImagesHttp(new Request('http://x/api/images?limit=100000'), ctx, { store })).status).toBe(200);
    expect((await listImagesHttp(new Request('http://x/api/images'), ctx, { store })).status).toBe(200);
    expect(filters.map((f) => f.limit)).toEqual([MAX_PAGE, 25]);
  });

  it('passes only the filters given, parsed, and ignores the function key parameter', async () => {
    const { store, filters } = recordingStore();
    await listImagesHttp(new Request('http://x/api/images?code=secret&status=needs_review&minConfidence=0.2&since=2026-01-01T00:00:00Z'), ctx, { store });
    expect(filters[0]).toEqual({ status: 'needs_review', minConfidence: 0.2, since: '2026-01-01T00:00:00Z', limit: 25 });
  });
});

describe('readBodyLimited', () => {
  it('refuses while streaming, before the whole body is read', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 1000) controller.close();
        else controller.enqueue(new Uint8Array(1024));
      },
    });
    const req = new Request('http://x/', { method: 'POST', body, duplex: 'half' });
    await expect(readBodyLimited(req, 10 * 1024)).rejects.toMatchObject({ status: 413, code: 'too_large' });
    expect(pulled).toBeLessThan(20);
  });

  it('refuses at once when Content-Length declares too much', async () => {
    const req = new Request('http://x/', { method: 'POST', body: 'x'.repeat(10), headers: { 'content-length': '999999' } });
    await expect(readBodyLimited(req, 100)).rejects.toMatchObject({ status: 413 });
  });
});
