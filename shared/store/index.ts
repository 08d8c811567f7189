export {
  COSMOS_EMULATOR_KEY,
  COSMOS_REQUEST_TIMEOUT_MS,
  COSMOS_RETRY_OPTIONS,
  createCosmosContainer,
  IMAGES_INDEXING_POLICY,
  IMAGES_PARTITION_KEY_PATH,
} from './createCosmosContainer';
export { documentId } from './documentId';
export type { BlobRef, ImageDocument, ImageReview, ImageStatus, Lease, ReviewedBy } from './imageDocument';
export { FINAL_STATUSES } from './imageDocument';
export type { ListFilter, ListPage } from './ImageStore';
export type { StoredVersion } from './ImageStore';
export { ImageStore, MAX_LIST_LIMIT } from './ImageStore';
export { MAX_VERSION_LOOKUP } from './ImageStore';
export { InvalidContinuationTokenError, isInvalidContinuationTokenError } from './InvalidContinuationTokenError';
export type { CosmosErrorLike } from './isCosmosError';
export { cosmosStatus, isCosmosError } from './isCosmosError';
export type { CacheEntry, CacheKey, CacheOutcome, GetOrComputeOptions } from './ResultCache';
export { cacheEntryId, ResultCache } from './ResultCache';
export type { ScanCursor, ScanCursorPosition } from './ScanCursorStore';
export { scanCursorId, ScanCursorStore } from './ScanCursorStore';
export { toStoreError } from './toStoreError';
