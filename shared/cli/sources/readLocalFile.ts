/** Reads a local file for labelling: hashes all of it, buffers at most maxBytes + 1, says plainly when it cannot. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

import type { ReadOutcome } from './sourceItem';

export async function readLocalFile(file: string, maxBytes: number, signal: AbortSignal): Promise<ReadOutcome> {
  const t0 = performance.now();
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of createReadStream(file, { signal })) {
      const b = chunk as Buffer;
      hash.update(b);
      size += b.length;
      // Past the limit the bytes are only hashed, never held: a huge file costs no memory.
      if (size <= maxBytes + 1) chunks.push(b);
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { kind: 'unreadable', code: 'unreadable', message: unreadableMessage(file, err), readMs: ms(t0) };
  }
  const sha256 = hash.digest('hex');
  if (size > maxBytes) return { kind: 'too-large', size, sha256, readMs: ms(t0) };
  return { kind: 'ok', bytes: Buffer.concat(chunks, size), size, sha256, readMs: ms(t0) };
}

function unreadableMessage(file: string, e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return `${file} cannot be read: it does not exist (a dangling symbolic link, or it was deleted during the run).`;
    case 'EISDIR':
      return `${file} is a directory, not an image file.`;
    case 'EACCES':
    case 'EPERM':
      return `${file} cannot be read: permission denied.`;
    default:
      return `${file} cannot be read: ${e.message}`;
  }
}

function ms(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10;
}
