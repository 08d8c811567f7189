/**
 * Previews (thumbnails) of stored images, made once per image version and size bucket and kept as JPEG blobs in the
 * renditions container (`<IMAGES_CONTAINER>-renditions`, outside the Event Grid filter and the reconcile scan). A
 * request is then one small blob read; only the first request for a version and bucket downloads and decodes the
 * original (with the byte and pixel limits of preprocessing, and sharp's shrink-on-load for JPEG and WebP).
 */
import type { ContainerClient } from '@azure/storage-blob';
import { RestError } from '@azure/storage-blob';
import sharp from 'sharp';

import { downloadBlob } from '../blob';
import { TransientError } from '../errors';

/** Sizes previews are stored at; a request gets the smallest bucket at least as large, resized down from it. */
export const PREVIEW_BUCKETS = [256, 1024, 2048] as const;
const MAX_BUCKET = 2048;

export interface PreviewDeps {
  images: ContainerClient;
  renditions: ContainerClient;
  limits: { maxBytes: number; maxPixels: number };
}

export interface PreviewSource {
  /** Document id: renditions are grouped by it. */
  id: string;
  blobName: string;
  /** The version the document describes: the rendition is of exactly these bytes (If-Match on the download). */
  eTag: string;
}

export type PreviewResult = { kind: 'ok'; jpeg: Buffer; madeNow: boolean } | { kind: 'gone' } | { kind: 'changed' } | { kind: 'too-large' };

export async function getPreview(deps: PreviewDeps, src: PreviewSource, size: number): Promise<PreviewResult> {
  const bucket: number = PREVIEW_BUCKETS.find((b) => b >= size) ?? MAX_BUCKET;
  const blob = deps.renditions.getBlockBlobClient(renditionName(src, bucket));
  let stored: Buffer | undefined;
  try {
    stored = await blob.downloadToBuffer();
  } catch (e) {
    if (!(e instanceof RestError && e.statusCode === 404)) throw storageTrouble(e);
  }
  let madeNow = false;
  if (stored === undefined) {
    const original = await downloadBlob(deps.images, src.blobName, { eTag: src.eTag, maxBytes: deps.limits.maxBytes });
    if (original.kind === 'not-found') return { kind: 'gone' };
    if (original.kind === 'superseded') return { kind: 'changed' };
    if (original.kind === 'too-large') return { kind: 'too-large' };
    stored = await render(original.bytes, bucket, deps.limits.maxPixels);
    madeNow = true;
    await saveRendition(deps.renditions, blob.name, stored);
  }
  const jpeg = size === bucket ? stored : await render(stored, size, deps.limits.maxPixels);
  return { kind: 'ok', jpeg, madeNow };
}

/** `<id>/<eTag without quotes>/<bucket>.jpg`: a new version of the image gets new renditions, never a stale one. */
export function renditionName(src: PreviewSource, bucket: number): string {
  const version = src.eTag.replace(/[^0-9A-Za-z_-]/g, '');
  return `${src.id}/${version}/${bucket}.jpg`;
}

async function render(bytes: Buffer, size: number, maxPixels: number): Promise<Buffer> {
  // Same guards as preprocessing: never decode more pixels than the limit allows; the first frame only.
  return sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', pages: 1 })
    .autoOrient()
    .resize(size, size, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 80 })
    .toBuffer();
}

/** Written once per name (If-None-Match: *); two first requests racing both succeed, one write wins. */
async function saveRendition(renditions: ContainerClient, name: string, jpeg: Buffer): Promise<void> {
  const put = (): Promise<unknown> =>
    renditions.getBlockBlobClient(name).upload(jpeg, jpeg.length, { blobHTTPHeaders: { blobContentType: 'image/jpeg' }, conditions: { ifNoneMatch: '*' } });
  try {
    await put();
  } catch (e) {
    if (e instanceof RestError && (e.statusCode === 409 || e.statusCode === 412) && e.code !== 'ContainerNotFound') return;
    if (e instanceof RestError && e.statusCode === 404 && e.code === 'ContainerNotFound') {
      await renditions.createIfNotExists().catch((c: unknown) => Promise.reject(storageTrouble(c)));
      await put().catch((again: unknown) => {
        if (again instanceof RestError && (again.statusCode === 409 || again.statusCode === 412)) return;
        throw storageTrouble(again);
      });
      return;
    }
    throw storageTrouble(e);
  }
}

function storageTrouble(e: unknown): TransientError {
  return new TransientError('storage_unavailable', `The renditions container could not be used: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, { cause: e });
}
