/**
 * The one image file of a request: a raw `image/*` (or octet-stream) body, or the single file part of a
 * `multipart/form-data` body. Read as it arrives and refused the moment it breaks a rule (too many bytes, a second
 * file), so memory stays bounded by the byte limit and nothing is kept of a refused body.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';

import busboy from 'busboy';

import { HttpProblem } from './problem';
import { readBodyLimited, tooLarge } from './readBodyLimited';

export interface ImageFile {
  bytes: Buffer;
  /** The multipart part's filename, or undefined for a raw body. */
  filename: string | undefined;
}

export async function readImageFile(req: Request, maxBytes: number): Promise<ImageFile> {
  const type = (req.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type.startsWith('image/') || type === 'application/octet-stream') {
    const bytes = await readBodyLimited(req, maxBytes);
    if (bytes.length === 0) throw new HttpProblem(400, 'empty_blob', 'The request body is empty; send the image bytes as the body.');
    return { bytes, filename: undefined };
  }
  if (type === 'multipart/form-data') {
    const file = await onlyFilePart(req, req.headers.get('content-type') ?? '', maxBytes);
    if (file.bytes.length === 0) throw new HttpProblem(400, 'empty_blob', 'The uploaded file is empty.');
    return file;
  }
  throw new HttpProblem(
    415,
    'unsupported_media_type',
    `Content-Type ${JSON.stringify(type || '(none)')} is not accepted: send the image with an image/* content type, or as multipart/form-data.`,
  );
}

/** Multipart framing besides the file: boundaries, part headers and a few small fields. */
const MULTIPART_OVERHEAD = 64 * 1024;

/**
 * Parses the whole body (so a second file part is seen before anything is stored) and keeps only the first file.
 * A second file, a file over the limit or a body over limit + framing stops the reading at once.
 */
function onlyFilePart(req: Request, contentType: string, maxBytes: number): Promise<ImageFile> {
  if (req.body === null) return Promise.reject(new HttpProblem(400, 'no_file', 'The multipart body is empty; send the image as a file field (e.g. "image").'));
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes + MULTIPART_OVERHEAD) return Promise.reject(tooLarge(maxBytes + MULTIPART_OVERHEAD, declared, 'MAX_IMAGE_BYTES + 64 KiB of multipart framing'));
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: { 'content-type': contentType }, limits: { files: 1, fileSize: maxBytes, fields: 20, fieldSize: 1024, parts: 40 } });
    } catch {
      reject(new HttpProblem(400, 'bad_multipart', 'The multipart body could not be parsed (missing boundary?).'));
      return;
    }
    const body = Readable.fromWeb(req.body as NodeWebReadableStream<Uint8Array>);
    let settled = false;
    let total = 0;
    let file: { chunks: Buffer[]; size: number; filename: string; done: boolean } | undefined;
    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      // Stop reading: nothing more of this body is needed, and none of it is kept.
      body.unpipe(bb);
      body.destroy();
      reject(e instanceof Error ? e : new Error(String(e)));
    };
    body.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes + MULTIPART_OVERHEAD) fail(tooLarge(maxBytes + MULTIPART_OVERHEAD, total, 'MAX_IMAGE_BYTES + 64 KiB of multipart framing'));
    });
    bb.on('file', (_field, stream, info) => {
      const current = { chunks: [] as Buffer[], size: 0, filename: info.filename || 'upload', done: false };
      file = current;
      stream.on('data', (chunk: Buffer) => {
        current.size += chunk.length;
        current.chunks.push(chunk);
      });
      stream.on('limit', () => fail(tooLarge(maxBytes, maxBytes + 1, 'MAX_IMAGE_BYTES')));
      stream.on('end', () => (current.done = true));
    });
    bb.on('filesLimit', () => fail(new HttpProblem(400, 'one_file_per_request', 'The multipart body has more than one file part; send one file per request.')));
    bb.on('error', () => fail(new HttpProblem(400, 'bad_multipart', 'The multipart body could not be parsed.')));
    bb.on('close', () => {
      if (settled) return;
      if (file === undefined) return fail(new HttpProblem(400, 'no_file', 'The multipart body has no file part; send the image as a file field (e.g. "image").'));
      if (!file.done) return fail(new HttpProblem(400, 'bad_multipart', 'The multipart body ended inside the file part.'));
      settled = true;
      resolve({ bytes: Buffer.concat(file.chunks, file.size), filename: file.filename });
    });
    body.on('error', (e) => fail(e));
    body.pipe(bb);
  });
}
