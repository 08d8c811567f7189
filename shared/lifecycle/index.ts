export type { DeleteImageDeps, DeleteImageResult } from './deleteImage';
export { deleteImage } from './deleteImage';
export type { ReprocessResult } from './reprocessImage';
export { REPROCESS_PROFILE_METADATA, reprocessImage } from './reprocessImage';
export type { ReprocessFilter, ReprocessItem } from './reprocessMany';
export { MAX_BULK_REPROCESS, reprocessMany } from './reprocessMany';
export { sweepCache } from './sweepCache';
