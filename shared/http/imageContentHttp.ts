/**
 * GET /api/images/{id}/content?size=: the stored image as an upright JPEG thumbnail or preview, for the web page.
 * Served from a stored rendition (made once per image version and size bucket, see getPreview); only blobs of
 * IMAGES_CONTAINER with a plain name are ever read.
 */
import type { ContainerClient } from '@azure/storage-blob';

import { blobNameProblem } from '../blob';
import { getPreview } from '../previews/getPreview';
import type { ImageStore } from '../store';
import type { HttpContext } from './HttpContext';
import { API_HEADERS } from './HttpContext';
import { DOCUMENT_ID } from './imagesHttp';
import { errorToResponse, HttpProblem } from './problem';

export interface ImageContentHttpDeps {
  store: ImageStore;
  images: ContainerClient;
  /** Where previews are kept: `<IMAGES_CONTAINER>-renditions` (created on first use). */
  renditions: ContainerClient;
  limits: { maxBytes: number; maxPixels: number };
}

const MIN_SIZE = 32;
const MAX_SIZE = 2048;
const DEFAULT_SIZE = 1024;

/** A blob name this route will read: no empty, `.` or `..` segment, no backslash, no control character. */
export function isPlainBlobName(name: string): boolean {
  // The pipeline's own check: one rule for what may be read from the images container.
  return blobNameProblem(name) === null;
}

export async function imageContentHttp(req: Request, ctx: HttpContext, deps: ImageContentHttpDeps): Promise<Response> {
  try {
    const id = ctx.params['id'] ?? '';
    if (!DOCUMENT_ID.test(id)) throw new HttpProblem(400, 'invalid_id', 'The id must be 32 lower-case hex characters.');
    const rawSize = new URL(req.url).searchParams.get('size');
    // Decimal digits only: Number() would also take `0x40`, `1e3` or an empty value (0).
    const size = rawSize === null ? DEFAULT_SIZE : /^[1-9]\d{0,4}$/.test(rawSize) ? Number(rawSize) : NaN;
    if (!Number.isInteger(size) || size < MIN_SIZE || size > MAX_SIZE) throw new HttpProblem(400, 'invalid_size', `size must be a whole number from ${MIN_SIZE} to ${MAX_SIZE}.`);
    const doc = await deps.store.get(id);
    if (doc === undefined) throw new HttpProblem(404, 'not_found', `No image document with id ${id}.`);
    if (doc.blob.container !== deps.images.containerName || !isPlainBlobName(doc.blob.name)) {
      // A document made from a forged event: its blob is not one of ours to serve, whatever storage would resolve it to.
      ctx.log.warn('image content refused: blob outside the images container or with an unsafe name', { id, container: doc.blob.container });
      throw new HttpProblem(404, 'not_servable', 'This document does not point at a blob of the images container.');
    }
    if (doc.image === null) throw new HttpProblem(415, 'no_image', 'This upload is not an image that can be shown.', {}, { reason: doc.error?.code ?? null });
    const etag = `"${doc.image.sha256.slice(0, 16)}-${size}"`;
    // Image bytes of a version never change under its etag: the browser may keep them privately for a while.
    const headers = { ...API_HEADERS, 'cache-control': 'private, max-age=300', etag };
    if (req.headers.get('if-none-match') === etag) return new Response(null, { status: 304, headers });
    const preview = await getPreview(deps, { id, blobName: doc.blob.name, eTag: doc.blob.eTag }, size);
    if (preview.kind === 'gone') throw new HttpProblem(404, 'blob_not_found', 'The image blob is no longer in storage.');
    if (preview.kind === 'changed') throw new HttpProblem(409, 'image_changed', 'The image was replaced and is being processed again; reload the document.');
    if (preview.kind === 'too-large') throw new HttpProblem(413, 'too_large', 'The image blob is larger than MAX_IMAGE_BYTES.');
    return new Response(new Uint8Array(preview.jpeg), { status: 200, headers: { ...headers, 'content-type': 'image/jpeg' } });
  } catch (e) {
    return errorToResponse(e, ctx.log);
  }
}
