/** What the blob is right now, from storage itself: the truth events are checked against. */
import type { ContainerClient } from '@azure/storage-blob';

import { TransientError } from '../errors';
import { restStatus } from './downloadBlob';
import { imageBlobClient } from './imageBlobClient';

export type BlobState =
  | { exists: false }
  | {
      exists: true;
      /** Quoted, as storage sends it. */
      eTag: string;
      contentLength: number;
      contentType: string | null;
      metadata: Record<string, string>;
      /** Built by the configured client, never taken from an event. */
      url: string;
    };

/** One HEAD (getProperties). Not found is an answer; any other failure throws TransientError `storage_unavailable`. */
export async function readBlobState(container: ContainerClient, name: string, signal?: AbortSignal): Promise<BlobState> {
  const blob = imageBlobClient(container, name);
  try {
    const p = await blob.getProperties(signal === undefined ? {} : { abortSignal: signal });
    return { exists: true, eTag: p.etag ?? '', contentLength: p.contentLength ?? 0, contentType: p.contentType ?? null, metadata: { ...(p.metadata ?? {}) }, url: blob.url };
  } catch (e) {
    if (restStatus(e) === 404) return { exists: false };
    const detail = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new TransientError('storage_unavailable', `Could not read the properties of blob ${JSON.stringify(name)} in ${JSON.stringify(container.containerName)}: ${detail}`, { cause: e });
  }
}

/** eTags compare without their quotes (or weak prefix): Event Grid payloads and users sometimes send them bare. */
export function sameETag(a: string | null | undefined, b: string | null | undefined): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return false;
  const bare = (t: string): string => t.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  return bare(a) !== '' && bare(a) === bare(b);
}
