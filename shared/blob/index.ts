export { blobNameProblem } from './blobNameProblem';
export { BLOB_RETRY_OPTIONS, createBlobServiceClient } from './createBlobServiceClient';
export type { DownloadOptions, DownloadResult } from './downloadBlob';
export { downloadBlob } from './downloadBlob';
export { imageBlobClient } from './imageBlobClient';
export type { BlobState } from './readBlobState';
export { readBlobState, sameETag } from './readBlobState';
