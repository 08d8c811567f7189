export { BLOB_RETRY_OPTIONS, createBlobServiceClient } from './createBlobServiceClient';
export type { DownloadOptions, DownloadResult } from './downloadBlob';
export { downloadBlob } from './downloadBlob';
