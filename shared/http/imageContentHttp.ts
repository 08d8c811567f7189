/** GET /api/images/{id}/content?size=: the stored image as an upright JPEG thumbnail or preview, for the web page. */
import type { ContainerClient } from '@azure/storage-blob';
import sharp from 'sharp';

import { downloadBlob } from '../blob';
import type { ImageStore } from '../store';
import type { HttpContext } from './HttpContext';
import { DOCUMENT_ID } from './imagesHttp';
import { errorToResponse, HttpProblem } from './problem';

export interface ImageContentHttpDeps {
  store: ImageStore;
  images: ContainerClient;
  limits: { maxBytes: number; maxPixels: number };
}

const MIN_SIZE = 32;
const MAX_SIZE = 2048;
const DEFAULT_SIZE = 1024;

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
    if (doc.image === null) throw new HttpProblem(415, 'no_image', 'This upload is not an image that can be shown.', {}, { reason: doc.error?.code ?? null });
    const etag = `"${doc.image.sha256.slice(0, 16)}-${size}"`;
    if (req.headers.get('if-none-match') === etag) return new Response(null, { status: 304, headers: { etag } });
    const blob = await downloadBlob(deps.images, doc.blob.name, { maxBytes: deps.limits.maxBytes });
    if (blob.kind !== 'ok') throw new HttpProblem(404, 'blob_not_found', 'The image blob is no longer in storage.');
    // Same guards as preprocessing: never decode more pixels than the limit allows.
    const jpeg = await sharp(blob.bytes, { limitInputPixels: deps.limits.maxPixels, failOn: 'error', pages: 1 })
      .autoOrient()
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 80 })
      .toBuffer();
    return new Response(new Uint8Array(jpeg), { status: 200, headers: { 'content-type': 'image/jpeg', 'cache-control': 'private, max-age=300', etag } });
  } catch (e) {
    return errorToResponse(e, ctx.log);
  }
}
