/**
 * A privacy delete: the blob (with its snapshots), its renditions, every cached answer for its bytes, and its
 * document. The document goes last, so a delete cut short is completed by calling it again (the document still
 * names what to remove); the BlobDeleted event that follows finds no document and no blob, and changes nothing.
 */
import type { ContainerClient } from '@azure/storage-blob';

import type { ImageDocument, ImageStore } from '../store';

export interface DeleteImageDeps {
  store: ImageStore;
  images: ContainerClient;
  /** `<IMAGES_CONTAINER>-renditions`: previews, under `<document id>/`. */
  renditions: ContainerClient;
  now?: () => Date;
}

export type DeleteImageResult =
  | { kind: 'not-found' }
  /** Being processed right now: deleting under a live claim would let the worker write a result back. */
  | { kind: 'in-flight'; leaseExpiresAt: string }
  | { kind: 'deleted'; blob: boolean; renditions: number; cacheEntries: number };

export async function deleteImage(id: string, deps: DeleteImageDeps): Promise<DeleteImageResult> {
  const doc = await deps.store.get(id);
  if (doc === undefined) return { kind: 'not-found' };
  const now = (deps.now ?? ((): Date => new Date()))();
  if (doc.status === 'processing' && doc.lease !== null && doc.lease !== undefined && Date.parse(doc.lease.expiresAt) > now.getTime()) {
    return { kind: 'in-flight', leaseExpiresAt: doc.lease.expiresAt };
  }
  const blob = (await deps.images.getBlobClient(doc.blob.name).deleteIfExists({ deleteSnapshots: 'include' })).succeeded;
  let renditions = 0;
  for await (const b of deps.renditions.listBlobsFlat({ prefix: `${doc.id}/` })) {
    if ((await deps.renditions.getBlobClient(b.name).deleteIfExists()).succeeded) renditions++;
  }
  const cacheEntries = await deleteCachedAnswers(deps.store, doc);
  await deps.store.delete(doc.id);
  return { kind: 'deleted', blob, renditions, cacheEntries };
}

/** Every cache entry for these bytes (any profile or model): a privacy request covers all answers about the image. */
async function deleteCachedAnswers(store: ImageStore, doc: ImageDocument): Promise<number> {
  const sha256 = doc.image?.sha256;
  if (sha256 === undefined) return 0;
  const entries = await store.query<{ id: string }>({
    query: 'SELECT c.id FROM c WHERE c.type = @type AND c.key.sha256 = @sha',
    parameters: [
      { name: '@type', value: 'cache' },
      { name: '@sha', value: sha256 },
    ],
  });
  let n = 0;
  for (const e of entries) if (await store.delete(e.id)) n++;
  return n;
}
