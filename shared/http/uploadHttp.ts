/** POST /api/uploads?profile=: stores one checked image in the images container, so the normal event flow classifies it. */
import { randomUUID } from 'node:crypto';

import type { ContainerClient } from '@azure/storage-blob';

import type { ImageContainer } from '../preprocess';
import { sniffImageFormat } from '../preprocess';
import type { ProfileRegistry } from '../profiles';
import { documentId } from '../store';
import type { HttpContext } from './HttpContext';
import { json } from './HttpContext';
import { errorToResponse, HttpProblem } from './problem';
import { readImageFile } from './readImageFile';

export interface UploadHttpDeps {
  images: ContainerClient;
  profiles: ProfileRegistry;
  limits: { maxBytes: number };
}

const MIME: Record<ImageContainer, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', tiff: 'image/tiff', heif: 'image/heif' };
/** Bytes needed before the real type is known (an ISO-BMFF ftyp box, a TIFF or WebP header). */
const SNIFF_BYTES = 64;

/**
 * One file per request (raw `image/*` body with `?name=`, or multipart with exactly one file part): each upload gets
 * its own status and its own 4xx, and a refused file leaves nothing behind. The body is read as it arrives and
 * refused the moment it passes MAX_IMAGE_BYTES or shows a second file; only a whole, checked file is written, in one
 * Put Blob. So a refused upload never stages a block (uncommitted blocks cannot be deleted, only committed or left
 * for storage to collect after a week) and never raises a BlobCreated event. Memory per upload is bounded by
 * MAX_IMAGE_BYTES.
 */
export async function uploadHttp(req: Request, ctx: HttpContext, deps: UploadHttpDeps): Promise<Response> {
  try {
    const url = new URL(req.url);
    const profile = url.searchParams.get('profile')?.trim() || undefined;
    if (profile !== undefined && !deps.profiles.has(profile)) {
      await req.body?.cancel().catch(() => undefined);
      throw new HttpProblem(400, 'unknown_profile', `Unknown profile "${profile}". Known profiles: ${deps.profiles.names().join(', ')}.`);
    }
    if (req.body === null) throw new HttpProblem(400, 'empty_blob', 'The request has no body; send one image.');
    const file = await readImageFile(req, deps.limits.maxBytes);
    const filename = file.filename ?? (url.searchParams.get('name')?.trim() || 'upload');
    const sniffed = sniffImageFormat(file.bytes.subarray(0, SNIFF_BYTES));
    if (sniffed.kind !== 'image') {
      const what = sniffed.kind === 'other' ? `${sniffed.label} is not an accepted image` : 'the bytes are not a supported image';
      throw new HttpProblem(415, 'unsupported_format', `${what}: upload JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIF.`);
    }
    const blobName = `${profile === undefined ? '' : `${profile}/`}${new Date().toISOString().slice(0, 10)}/${randomUUID().slice(0, 8)}-${safeName(filename)}`;
    // One Put Blob with the content type set at once, so the blob's eTag is the one its BlobCreated event reports.
    // ifNoneMatch '*': an upload never replaces a blob, even in the unlikely case of a repeated name.
    await deps.images.getBlockBlobClient(blobName).upload(file.bytes, file.bytes.length, {
      blobHTTPHeaders: { blobContentType: MIME[sniffed.container] },
      metadata: { originalname: encodeURIComponent(filename).slice(0, 1000) },
      conditions: { ifNoneMatch: '*' },
    });
    ctx.log.info('upload stored', { blobName, bytes: file.bytes.length, format: sniffed.container });
    const id = documentId(deps.images.containerName, blobName);
    return json({ id, blobName, container: deps.images.containerName, bytes: file.bytes.length, format: sniffed.container, profile: profile ?? null }, 201, { location: `/api/images/${id}` });
  } catch (e) {
    return errorToResponse(e, ctx.log);
  }
}

/** A file name safe in a blob path and a URL: no folders, no control characters, bounded length. */
export function safeName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._ -]+/gu, '_')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, 120);
  return cleaned === '' ? 'upload' : cleaned;
}
