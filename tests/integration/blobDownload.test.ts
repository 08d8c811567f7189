import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';

import type { ContainerClient } from '@azure/storage-blob';
import { BlobClient, BlobServiceClient } from '@azure/storage-blob';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { downloadBlob } from '../../shared/blob';
import { isTransientError } from '../../shared/errors';
import type { Disposable } from '../support/emulators';
import { createTestContainer, testBlobServiceClient, uniqueName } from '../support/emulators';

const MiB = 1024 * 1024;

let box: Disposable<ContainerClient>;
let container: ContainerClient;
let n = 0;
const blobName = (label: string): string => `${label}/${++n} ü space.jpg`;

beforeAll(async () => {
  box = await createTestContainer('download');
  container = box.value;
});
afterAll(async () => box.cleanup());
afterEach(() => vi.restoreAllMocks());

async function put(name: string, bytes: Buffer, options: { contentType?: string; metadata?: Record<string, string> } = {}): Promise<string> {
  const res = await container.getBlockBlobClient(name).uploadData(bytes, {
    ...(options.contentType === undefined ? {} : { blobHTTPHeaders: { blobContentType: options.contentType } }),
    ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
  });
  if (res.etag === undefined) throw new Error('upload returned no eTag');
  return res.etag;
}

/**
 * Watches what downloadBlob reads from the response body (every way of consuming a Readable goes through read()),
 * and can hide the declared length, as a server that streams without Content-Length would.
 */
function watchBodyReads(options: { hideContentLength?: boolean } = {}): { consumed: () => number } {
  let consumed = 0;
  type Download = (this: BlobClient, ...args: Parameters<BlobClient['download']>) => ReturnType<BlobClient['download']>;
  const original = Object.getOwnPropertyDescriptor(BlobClient.prototype, 'download')?.value as Download;
  vi.spyOn(BlobClient.prototype, 'download').mockImplementation(async function (this: BlobClient, ...args: Parameters<BlobClient['download']>) {
    const res = await original.apply(this, args);
    const body = res.readableStreamBody as Readable;
    const read = body.read.bind(body);
    body.read = (size?: number): unknown => {
      const chunk: unknown = read(size);
      if (Buffer.isBuffer(chunk)) consumed += chunk.length;
      return chunk;
    };
    if (!options.hideContentLength) return res;
    return new Proxy(res, {
      get: (target, prop) => (prop === 'contentLength' ? undefined : Reflect.get(target, prop, target)),
    });
  });
  return { consumed: () => consumed };
}

describe('downloadBlob', () => {
  it('returns the bytes, eTag, content type, metadata and URL of the version named by the eTag', async () => {
    const name = blobName('ok');
    const bytes = Buffer.from('not really a jpeg, but bytes are bytes');
    const eTag = await put(name, bytes, { contentType: 'image/jpeg', metadata: { profile: 'flowers', owner: 'team-a' } });

    const r = await downloadBlob(container, name, { eTag, maxBytes: 1024 });

    expect(r).toEqual({
      kind: 'ok',
      bytes,
      eTag,
      contentType: 'image/jpeg',
      contentLength: bytes.length,
      metadata: { profile: 'flowers', owner: 'team-a' },
      url: container.getBlobClient(name).url,
    });
  });

  it('returns a multi-megabyte body byte for byte (read into one buffer of the declared length)', async () => {
    const name = blobName('big');
    const bytes = randomBytes(3 * MiB + 17);
    const eTag = await put(name, bytes);
    const r = await downloadBlob(container, name, { eTag, maxBytes: 4 * MiB });
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.contentLength).toBe(bytes.length);
    expect(r.bytes.equals(bytes)).toBe(true);
  });

  it('downloads the current version when no eTag is given, and accepts an unquoted eTag', async () => {
    const name = blobName('current');
    const eTag = await put(name, Buffer.from('v1'));

    const current = await downloadBlob(container, name, { maxBytes: 1024 });
    const bare = await downloadBlob(container, name, { eTag: eTag.replace(/"/g, ''), maxBytes: 1024 });

    expect(current).toMatchObject({ kind: 'ok', bytes: Buffer.from('v1'), eTag, contentType: 'application/octet-stream', metadata: {} });
    expect(bare).toMatchObject({ kind: 'ok', bytes: Buffer.from('v1'), eTag });
  });

  it('downloads an empty blob as zero bytes (rejecting it is the caller’s call)', async () => {
    const name = blobName('empty');
    const eTag = await put(name, Buffer.alloc(0));
    expect(await downloadBlob(container, name, { eTag, maxBytes: 10 })).toMatchObject({ kind: 'ok', bytes: Buffer.alloc(0), contentLength: 0 });
  });

  it('answers not-found for a deleted blob and for a missing container', async () => {
    const name = blobName('deleted');
    const eTag = await put(name, Buffer.from('x'));
    await container.getBlobClient(name).delete();

    expect(await downloadBlob(container, name, { eTag, maxBytes: 10 })).toEqual({ kind: 'not-found' });
    const missingContainer = testBlobServiceClient().getContainerClient(uniqueName('missing'));
    expect(await downloadBlob(missingContainer, name, { maxBytes: 10 })).toEqual({ kind: 'not-found' });
  });

  it('answers superseded, naming the current eTag, when the blob was overwritten after the event', async () => {
    const name = blobName('overwritten');
    const old = await put(name, Buffer.from('version 1'));
    const current = await put(name, Buffer.from('version 2'));
    expect(current).not.toBe(old);

    expect(await downloadBlob(container, name, { eTag: old, maxBytes: 1024 })).toEqual({ kind: 'superseded', currentETag: current });
  });

  it('answers too-large from the declared length without reading the body', async () => {
    const name = blobName('big');
    const size = 4 * MiB;
    const eTag = await put(name, Buffer.alloc(size, 7));
    const watch = watchBodyReads();

    const r = await downloadBlob(container, name, { eTag, maxBytes: MiB });

    expect(r).toEqual({ kind: 'too-large', contentLength: size });
    expect(watch.consumed()).toBe(0);
  });

  it('accepts exactly maxBytes and refuses one byte more', async () => {
    const name = blobName('boundary');
    const eTag = await put(name, Buffer.alloc(1000, 1));

    expect(await downloadBlob(container, name, { eTag, maxBytes: 1000 })).toMatchObject({ kind: 'ok', contentLength: 1000 });
    expect(await downloadBlob(container, name, { eTag, maxBytes: 999 })).toEqual({ kind: 'too-large', contentLength: 1000 });
  });

  it('stops reading once maxBytes is exceeded when no length is declared', async () => {
    const name = blobName('undeclared');
    const size = 4 * MiB;
    const maxBytes = 64 * 1024;
    const eTag = await put(name, Buffer.alloc(size, 3));
    const watch = watchBodyReads({ hideContentLength: true });

    const r = await downloadBlob(container, name, { eTag, maxBytes });

    // Only a lower bound is known: more than maxBytes.
    expect(r).toEqual({ kind: 'too-large', contentLength: maxBytes + 1 });
    expect(watch.consumed()).toBeGreaterThan(maxBytes);
    expect(watch.consumed()).toBeLessThan(size / 2);
  });

  it('throws TransientError storage_unavailable when storage cannot be reached', async () => {
    const unreachable = BlobServiceClient.fromConnectionString(
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;',
      { retryOptions: { maxTries: 1 } },
    ).getContainerClient('images');

    const error = await downloadBlob(unreachable, 'a.jpg', { maxBytes: 10 }).catch((e: unknown) => e);

    expect(isTransientError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'storage_unavailable', kind: 'transient' });
  });

  it('throws TransientError when the caller aborts', async () => {
    const name = blobName('aborted');
    const eTag = await put(name, Buffer.from('x'));
    const controller = new AbortController();
    controller.abort(new Error('budget spent'));

    const error = await downloadBlob(container, name, { eTag, maxBytes: 10, signal: controller.signal }).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'TransientError', code: 'storage_unavailable' });
  });
});
