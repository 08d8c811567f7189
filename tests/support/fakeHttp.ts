/** Request plumbing the fake model servers share: the recorded headers and the raw body. */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** Headers as one string each (repeated ones joined), the way a request log records them. */
export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** The whole request body (the fakes that cap it read it themselves). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The body as JSON when it parses, else the text itself (a fake records what it was sent either way). */
export function parseOrRaw(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
