/** Downloads exactly the blob version an event names, with a byte cap, and says plainly when that is not possible. */
import type { BlobClient, BlobDownloadResponseParsed, ContainerClient } from '@azure/storage-blob';
import { RestError } from '@azure/storage-blob';

import { TransientError } from '../errors';
import { imageBlobClient } from './imageBlobClient';

export type DownloadResult =
  | {
      kind: 'ok';
      bytes: Buffer;
      /** The eTag of the downloaded version, quotes included as storage sends them. */
      eTag: string;
      contentType: string | null;
      contentLength: number;
      metadata: Record<string, string>;
      url: string;
    }
  /** The blob or its container is gone (deleted after the event was sent). */
  | { kind: 'not-found' }
  /** A newer write replaced the requested version; that write sends its own event. */
  | { kind: 'superseded'; currentETag?: string }
  /** Larger than `maxBytes`; the body was not read (or read no further than maxBytes + 1 when no length was declared). */
  | { kind: 'too-large'; contentLength: number };

export interface DownloadOptions {
  /** Only this version is downloaded (If-Match); quoted or bare. Omit to download the current version. */
  eTag?: string;
  /** Largest body accepted; at most maxBytes + 1 bytes are ever buffered. */
  maxBytes: number;
  /** Aborts the request and the body read, e.g. when the caller's time budget is spent. */
  signal?: AbortSignal;
}

const NOT_FOUND = 404;
const PRECONDITION_FAILED = 412;

/**
 * Downloads `name` from `container`. Not found, superseded and too large are answers, not errors; any other
 * failure (network, 5xx, throttling, auth, abort) throws TransientError `storage_unavailable` so the event is
 * delivered again.
 */
export async function downloadBlob(container: ContainerClient, name: string, opts: DownloadOptions): Promise<DownloadResult> {
  const blob = imageBlobClient(container, name);
  const ifMatch = opts.eTag === undefined ? undefined : quoteETag(opts.eTag);

  let response: BlobDownloadResponseParsed;
  try {
    response = await blob.download(0, undefined, {
      ...(ifMatch === undefined ? {} : { conditions: { ifMatch } }),
      ...(opts.signal === undefined ? {} : { abortSignal: opts.signal }),
    });
  } catch (e) {
    return answerOrThrow(e, blob);
  }

  const body = response.readableStreamBody;
  const declaredLength = response.contentLength;
  if (declaredLength !== undefined && declaredLength > opts.maxBytes) {
    body?.destroy();
    return { kind: 'too-large', contentLength: declaredLength };
  }

  let bytes: Buffer;
  try {
    const read = body === undefined ? { bytes: Buffer.alloc(0), overflowed: false, total: 0 } : await readCapped(body, opts.maxBytes, opts.signal, declaredLength);
    // Without a declared length, maxBytes + 1 is all we know: a lower bound.
    if (read.overflowed) return { kind: 'too-large', contentLength: Math.max(declaredLength ?? 0, read.total) };
    bytes = read.bytes;
  } catch (e) {
    // The SDK re-requests a broken body with If-Match on the version it started, so an overwrite shows up as 412 here too.
    return answerOrThrow(e, blob);
  }

  return {
    kind: 'ok',
    bytes,
    eTag: response.etag ?? ifMatch ?? '',
    contentType: response.contentType ?? null,
    contentLength: bytes.length,
    metadata: { ...(response.metadata ?? {}) },
    url: blob.url,
  };
}

/** Azure sends eTags quoted; Event Grid payloads and users sometimes pass them bare. If-Match wants the quoted form. */
function quoteETag(eTag: string): string {
  const t = eTag.trim();
  return t === '*' || t.startsWith('"') || t.startsWith('W/"') ? t : `"${t}"`;
}

async function answerOrThrow(e: unknown, blob: BlobClient): Promise<Extract<DownloadResult, { kind: 'not-found' | 'superseded' }>> {
  const status = restStatus(e);
  if (status === NOT_FOUND) return { kind: 'not-found' };
  if (status === PRECONDITION_FAILED) {
    // 412 also answers If-Match on a blob that no longer exists (Azurite does so), so look: gone is not-found,
    // otherwise the current eTag is worth logging. Failing to look changes nothing: a newer write is still certain.
    const current = await blob.getProperties().then(
      (p) => ({ eTag: p.etag }),
      (err: unknown) => (restStatus(err) === NOT_FOUND ? ('gone' as const) : { eTag: undefined }),
    );
    if (current === 'gone') return { kind: 'not-found' };
    return current.eTag === undefined ? { kind: 'superseded' } : { kind: 'superseded', currentETag: current.eTag };
  }
  const detail = e instanceof Error ? e.message.split('\n')[0] : String(e);
  throw new TransientError('storage_unavailable', `Could not download blob ${JSON.stringify(blob.name)} from ${JSON.stringify(blob.containerName)}: ${detail}`, { cause: e });
}

// Checks `name` too, so a RestError from a second copy of core-rest-pipeline is still recognised.
export function restStatus(e: unknown): number | undefined {
  if (!(e instanceof RestError || (e instanceof Error && e.name === 'RestError'))) return undefined;
  const status = (e as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Reads until the end or until more than `maxBytes` arrived, whichever is first; never holds more than maxBytes + 1.
 * With a declared length each chunk is copied into one buffer of that size as it arrives, so a 20 MB image is held
 * once, not as its chunks plus their concatenation at the end.
 */
async function readCapped(
  body: NodeJS.ReadableStream,
  maxBytes: number,
  signal: AbortSignal | undefined,
  declaredLength?: number,
): Promise<{ bytes: Buffer; overflowed: boolean; total: number }> {
  const chunks: Buffer[] = [];
  let total = 0;
  // Filled up to `filled` while the body keeps to its declared length; a longer body falls back to chunks.
  let single = declaredLength !== undefined && declaredLength > 0 && declaredLength <= maxBytes ? Buffer.allocUnsafe(declaredLength) : undefined;
  let filled = 0;
  const stream = body as NodeJS.ReadableStream & { destroy(error?: Error): void };
  const onAbort = (): void => stream.destroy(signal?.reason instanceof Error ? signal.reason : new Error('Download aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    signal?.throwIfAborted();
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (single !== undefined) {
        if (filled + buf.length <= single.length) {
          single.set(buf, filled);
          filled += buf.length;
          total += buf.length;
          continue;
        }
        // Longer than declared: carry on as chunks, beginning with what was already copied.
        chunks.push(single.subarray(0, filled));
        single = undefined;
      }
      const room = maxBytes + 1 - total;
      if (buf.length >= room) {
        chunks.push(buf.subarray(0, room));
        total += room;
        break;
      }
      chunks.push(buf);
      total += buf.length;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (total > maxBytes) {
    stream.destroy();
    return { bytes: Buffer.alloc(0), overflowed: true, total };
  }
  // A body shorter than declared (the SDK retries a broken one) is what arrived, no more.
  if (single !== undefined) return { bytes: filled === single.length ? single : single.subarray(0, filled), overflowed: false, total };
  return { bytes: Buffer.concat(chunks, total), overflowed: false, total };
}
