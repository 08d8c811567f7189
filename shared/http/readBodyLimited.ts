/** Reads a request body while counting, so an oversized upload is refused before it is all in memory. */
import { HttpProblem } from './problem';

/**
 * Refuses with 413 as soon as more than `maxBytes` arrive (or Content-Length says they will). `limitName` is what the
 * 413 names as the limit that applied (a setting, or a fixed limit of the route).
 */
export async function readBodyLimited(req: Request, maxBytes: number, limitName = 'MAX_IMAGE_BYTES'): Promise<Buffer> {
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await req.body?.cancel().catch(() => undefined);
    throw tooLarge(maxBytes, declared, limitName);
  }
  if (req.body === null) return Buffer.alloc(0);
  // Node types Request.body loosely; the Fetch standard says it is a byte stream.
  const reader = (req.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes, total, limitName);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** A 413 that names the limit that applied, in bytes and by name. */
export function tooLarge(maxBytes: number, seen: number, limitName: string): HttpProblem {
  return new HttpProblem(413, 'too_large', `The request body is larger than the limit of ${maxBytes} bytes (${limitName}).`, {}, { maxBytes, limit: limitName, receivedAtLeast: seen });
}
