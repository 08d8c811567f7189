/** The Cosmos document id of a blob: derived from its path so redelivery and re-upload hit the same document. */
import { createHash } from 'node:crypto';

/**
 * First 32 hex chars (128 bits) of SHA-256 over `${container}/${blobName}`. Blob names may hold `/ \ ? #`, spaces
 * and any unicode, none of which Cosmos allows in ids, and may be up to 1024 chars, over the 255-char id limit;
 * a hash is safe and fixed-length. The blob's path is stored in the document, so nothing is lost.
 */
export function documentId(container: string, blobName: string): string {
  return createHash('sha256').update(`${container}/${blobName}`, 'utf8').digest('hex').slice(0, 32);
}
