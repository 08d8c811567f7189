/** POST /api/uploads?profile=: streams one image into the images container, so the normal event flow classifies it. */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';

import type { ContainerClient } from '@azure/storage-blob';
import busboy from 'busboy';

import type { ImageContainer } from '../preprocess';
import { sniffImageFormat } from '../preprocess';
import type { ProfileRegistry } from '../profiles';
import { documentId } from '../store';
import type { HttpContext } from './HttpContext';
import { json } from './HttpContext';
import { errorToResponse, HttpProblem } from './problem';

export interface UploadHttpDeps {
  images: ContainerClient;
  profiles: ProfileRegistry;
  limits: { maxBytes: number };
}

const MIME: Record<ImageContainer, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', tiff: 'image/tiff', heif: 'image/heif' };
/** Bytes needed before the real type is known (an ISO-BMFF ftyp box, a TIFF or WebP header). */
const SNIFF_BYTES = 64;

/**
 * One file per request (raw `image/*` body with `?name=`, or multipart with one file part): each upload gets its own
 * status and its own 4xx, and a refused file leaves nothing behind. The bytes are streamed to Blob Storage and
 * checked on the way: the type from the first bytes, the size as they arrive. A refusal aborts before the block list
 * is committed, so no blob (and no BlobCreated event) ever exists for it.
 */
export async function uploadHttp(req: Request, ctx: HttpContext, deps: UploadHttpDeps): Promise<Response> {
  try {
    const url = new URL(req.url);
    const profile = url.searchParams.get('profile')?.trim() || undefined;
    if (profile !== undefined && !deps.profiles.has(profile)) {
      throw new HttpProblem(400, 'unknown_profile', `Unknown profile "${profile}". Known profiles: ${deps.profiles.names().join(', ')}.`);
    }
    if (req.body === null) throw new HttpProblem(400, 'empty_blob', 'The request has no body; send one image.');
    const type = (req.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const declared = Number(req.headers.get('content-length') ?? NaN);
    const body = Readable.fromWeb(req.body as NodeWebReadableStream<Uint8Array>);

    let file: { stream: Readable; filename: string };
    if (type === 'multipart/form-data') {
      file = await firstFilePart(body, req.headers.get('content-type') ?? '', deps.limits.maxBytes);
    } else if (type.startsWith('image/') || type === 'application/octet-stream') {
      if (Number.isFinite(declared) && declared > deps.limits.maxBytes) throw tooLarge(deps.limits.maxBytes);
      file = { stream: body, filename: url.searchParams.get('name')?.trim() || 'upload' };
    } else {
      throw new HttpProblem(415, 'unsupported_media_type', `Content-Type ${JSON.stringify(type || '(none)')} is not accepted: send the image with an image/* content type, or as multipart/form-data.`);
    }

    const blobName = `${profile === undefined ? '' : `${profile}/`}${new Date().toISOString().slice(0, 10)}/${randomUUID().slice(0, 8)}-${safeName(file.filename)}`;
    // Sniff before the upload starts: the content type is set once, at commit, so the blob's eTag is the one its
    // BlobCreated event reports (changing headers afterwards would give it a new eTag and stale the event).
    const { head, rest } = await readHead(file.stream, SNIFF_BYTES);
    if (head.length === 0) throw new HttpProblem(400, 'empty_blob', 'The uploaded file is empty.');
    const sniffed = sniffImageFormat(head);
    if (sniffed.kind !== 'image') {
      file.stream.resume(); // drain so the connection can finish
      const what = sniffed.kind === 'other' ? `${sniffed.label} is not an accepted image` : 'the bytes are not a supported image';
      throw new HttpProblem(415, 'unsupported_format', `${what}: upload JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIF.`);
    }
    const counted = { bytes: 0 };
    const source = Readable.from(limited(head, rest, deps.limits.maxBytes, counted));
    const abort = new AbortController();
    let problem: unknown;
    source.on('error', (e) => {
      problem = e;
      abort.abort();
    });
    const blob = deps.images.getBlockBlobClient(blobName);
    try {
      await blob.uploadStream(source, 4 * 1024 * 1024, 2, {
        abortSignal: abort.signal,
        blobHTTPHeaders: { blobContentType: MIME[sniffed.container] },
        metadata: { originalname: encodeURIComponent(file.filename).slice(0, 1000) },
      });
    } catch (e) {
      throw (problem ?? e) as Error;
    }
    if (problem !== undefined) throw problem as Error;
    const check = { bytes: counted.bytes, container: sniffed.container };
    ctx.log.info('upload stored', { blobName, bytes: check.bytes, format: check.container });
    return json(
      {
        id: documentId(deps.images.containerName, blobName),
        blobName,
        container: deps.images.containerName,
        bytes: check.bytes,
        format: check.container,
        profile: profile ?? null,
      },
      201,
      { location: `/api/images/${documentId(deps.images.containerName, blobName)}` },
    );
  } catch (e) {
    return errorToResponse(e, ctx.log);
  }
}

/** Reads at least `n` bytes (or all there is) from the start of a stream, leaving the rest to iterate. */
async function readHead(stream: Readable, n: number): Promise<{ head: Buffer; rest: AsyncIterator<Buffer> }> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < n) {
    const next: IteratorResult<Buffer> = await it.next();
    if (next.done === true) break;
    const value = next.value;
    chunks.push(value);
    size += value.length;
  }
  return { head: Buffer.concat(chunks, size), rest: it };
}

/** The head, then the rest, failing with 413 as soon as more than `maxBytes` have passed. */
async function* limited(head: Buffer, rest: AsyncIterator<Buffer>, maxBytes: number, counted: { bytes: number }): AsyncGenerator<Buffer> {
  counted.bytes = head.length;
  if (counted.bytes > maxBytes) throw tooLarge(maxBytes);
  yield head;
  for (;;) {
    const next: IteratorResult<Buffer> = await rest.next();
    if (next.done === true) return;
    const value = next.value;
    counted.bytes += value.length;
    if (counted.bytes > maxBytes) throw tooLarge(maxBytes);
    yield value;
  }
}

/** The first file part of a multipart body, streamed; refuses a second file rather than silently dropping it. */
function firstFilePart(body: Readable, contentType: string, maxBytes: number): Promise<{ stream: Readable; filename: string }> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: { 'content-type': contentType }, limits: { files: 1, fileSize: maxBytes, fields: 20, fieldSize: 1024 } });
    } catch {
      reject(new HttpProblem(400, 'bad_multipart', 'The multipart body could not be parsed (missing boundary?).'));
      return;
    }
    let got = false;
    bb.on('file', (_field, stream, info) => {
      got = true;
      stream.on('limit', () => stream.destroy(tooLarge(maxBytes)));
      resolve({ stream, filename: info.filename || 'upload' });
    });
    bb.on('filesLimit', () => reject(new HttpProblem(400, 'one_file_per_request', 'Send one file per request.')));
    bb.on('error', () => reject(new HttpProblem(400, 'bad_multipart', 'The multipart body could not be parsed.')));
    bb.on('close', () => {
      if (!got) reject(new HttpProblem(400, 'no_file', 'The multipart body has no file part; send the image as a file field (e.g. "image").'));
    });
    body.on('error', (e) => bb.destroy(e));
    body.pipe(bb);
  });
}

function tooLarge(maxBytes: number): HttpProblem {
  return new HttpProblem(413, 'too_large', `The upload is larger than the limit of ${maxBytes} bytes (MAX_IMAGE_BYTES).`, {}, { maxBytes });
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
