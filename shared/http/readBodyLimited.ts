/** Reads a request body while counting, so an oversized upload is refused before it is all in memory. */
import { HttpProblem } from './problem';

/** Refuses with 413 as soon as more than `maxBytes` arrive (or Content-Length says they will). */
export async function readBodyLimited(req: Request, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes, declared);
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
      throw tooLarge(maxBytes, total);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(maxBytes: number, seen: number): HttpProblem {
  return new HttpProblem(413, 'too_large', `The request body is larger than the limit of ${maxBytes} bytes (MAX_IMAGE_BYTES).`, {}, { maxBytes, receivedAtLeast: seen });
}
