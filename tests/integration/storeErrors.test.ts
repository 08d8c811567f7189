// What the emulator server cannot show: Cosmos errors and the empty pages real cross-partition queries return.
import type { Container, FeedOptions, SqlQuerySpec } from '@azure/cosmos';
import { ErrorResponse, StatusCodes } from '@azure/cosmos';
import { describe, expect, it } from 'vitest';

import { isTransientError } from '../../shared/errors';
import type { ImageDocument } from '../../shared/store';
import { ImageStore, isCosmosError, isInvalidContinuationTokenError, toStoreError } from '../../shared/store';

function cosmosError(code: number, extra: Record<string, unknown> = {}): ErrorResponse {
  return Object.assign(new ErrorResponse(`status ${code}`), { code, ...extra });
}

interface Page {
  resources: ImageDocument[];
  continuationToken?: string;
  hasMoreResults: boolean;
}

/** A Container whose queries answer the given pages in turn and whose reads throw `readError`. */
function fakeContainer(pages: Page[], readError?: Error): { container: Container; calls: { spec: SqlQuerySpec; options: FeedOptions }[]; fetches: () => number } {
  const calls: { spec: SqlQuerySpec; options: FeedOptions }[] = [];
  let fetches = 0;
  const container = {
    item: () => ({
      read: () => Promise.reject(readError ?? new Error('unexpected read')),
    }),
    items: {
      query: (spec: SqlQuerySpec, options: FeedOptions) => {
        calls.push({ spec, options });
        return {
          fetchNext: () => {
            fetches++;
            const page = pages.shift();
            return page === undefined ? Promise.reject(new Error('no more pages scripted')) : Promise.resolve(page);
          },
        };
      },
    },
  };
  return { container: container as unknown as Container, calls, fetches: () => fetches };
}

const doc = (id: string): ImageDocument => ({ id, type: 'image' }) as ImageDocument;

describe('ImageStore.list against Cosmos-style paging', () => {
  it('skips empty pages that carry a continuation, so callers never see an empty page mid-stream', async () => {
    const fake = fakeContainer([
      { resources: [], continuationToken: 'c1', hasMoreResults: true },
      { resources: [], continuationToken: 'c2', hasMoreResults: true },
      { resources: [doc('a'), doc('b')], continuationToken: 'c3', hasMoreResults: true },
    ]);
    const page = await new ImageStore(fake.container).list({ limit: 2 });

    expect(page.items.map((d) => d.id)).toEqual(['a', 'b']);
    expect(page.continuationToken).toEqual(expect.any(String));
    expect(fake.fetches()).toBe(3);
    // Query control is what makes real Cosmos hand out tokens for a cross-partition ORDER BY.
    expect(fake.calls[0]?.options).toMatchObject({ maxItemCount: 2, enableQueryControl: true });
  });

  it('gives up after a bounded number of empty pages and returns the continuation', async () => {
    const endless = Array.from({ length: 100 }, (_, i) => ({ resources: [], continuationToken: `c${i}`, hasMoreResults: true }));
    const fake = fakeContainer(endless);
    const page = await new ImageStore(fake.container).list({ limit: 5 });

    expect(page.items).toEqual([]);
    expect(page.continuationToken).not.toBeNull();
    expect(fake.fetches()).toBeLessThan(100);
  });

  it('passes our continuation back to Cosmos unwrapped', async () => {
    const first = fakeContainer([{ resources: [doc('a')], continuationToken: '{"token":"+RID:abc#RT:1","range":{"min":"","max":"FF"}}', hasMoreResults: true }]);
    const token = (await new ImageStore(first.container).list({ label: 'x', limit: 1 })).continuationToken as string;

    const second = fakeContainer([{ resources: [doc('b')], hasMoreResults: false }]);
    const page = await new ImageStore(second.container).list({ label: 'x', limit: 1, continuationToken: token });

    expect(second.calls[0]?.options.continuationToken).toBe('{"token":"+RID:abc#RT:1","range":{"min":"","max":"FF"}}');
    expect(page.continuationToken).toBeNull();
  });

  it('turns a 400 on a continued query into InvalidContinuationTokenError', async () => {
    const first = fakeContainer([{ resources: [doc('a')], continuationToken: 'tampered', hasMoreResults: true }]);
    const token = (await new ImageStore(first.container).list({ limit: 1 })).continuationToken as string;
    const rejecting = fakeContainer([]);
    rejecting.container.items.query = (() => ({ fetchNext: () => Promise.reject(cosmosError(StatusCodes.BadRequest)) })) as never;

    const error = await new ImageStore(rejecting.container).list({ limit: 1, continuationToken: token }).catch((e: unknown) => e);

    expect(isInvalidContinuationTokenError(error)).toBe(true);
  });
});

describe('Cosmos error mapping', () => {
  it.each([StatusCodes.TooManyRequests, StatusCodes.ServiceUnavailable, StatusCodes.RequestTimeout, StatusCodes.RetryWith, StatusCodes.InternalServerError])(
    'status %i becomes TransientError store_unavailable',
    async (status) => {
      const fake = fakeContainer([], cosmosError(status, { retryAfterInMs: 1200 }));
      const error = await new ImageStore(fake.container).get('abc').catch((e: unknown) => e);

      expect(isTransientError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'store_unavailable', retryAfterMs: 1200 });
      expect((error as Error).cause).toBeInstanceOf(ErrorResponse);
    },
  );

  it.each([StatusCodes.BadRequest, StatusCodes.Unauthorized, StatusCodes.Forbidden, StatusCodes.Conflict, StatusCodes.PreconditionFailed])(
    'status %i is rethrown unchanged for the caller to decide',
    async (status) => {
      const original = cosmosError(status);
      const fake = fakeContainer([], original);
      await expect(new ImageStore(fake.container).get('abc')).rejects.toBe(original);
    },
  );

  it('treats transport failures as transient and leaves programming errors alone', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { name: 'RestError', code: 'ECONNREFUSED' });
    const timeout = Object.assign(new Error('Timeout Error'), { name: 'TimeoutError', code: 'TimeoutError' });
    const bug = new TypeError('x is undefined');

    expect(isTransientError(toStoreError(refused, 'read'))).toBe(true);
    expect(isTransientError(toStoreError(timeout, 'read'))).toBe(true);
    expect(toStoreError(bug, 'read')).toBe(bug);
  });

  it('isCosmosError matches by status code, including copies that are not instances of the SDK class', () => {
    const lookalike = Object.assign(new Error('precondition failed'), { code: 412 });

    expect(isCosmosError(cosmosError(StatusCodes.PreconditionFailed), StatusCodes.PreconditionFailed)).toBe(true);
    expect(isCosmosError(lookalike, StatusCodes.PreconditionFailed)).toBe(true);
    expect(isCosmosError(Object.assign(new Error('x'), { statusCode: 409 }), StatusCodes.Conflict)).toBe(true);
    expect(isCosmosError(lookalike, StatusCodes.Conflict)).toBe(false);
    expect(isCosmosError(lookalike)).toBe(true);
    expect(isCosmosError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isCosmosError({ code: 412 })).toBe(false);
  });
});
