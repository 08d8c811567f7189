export type { BlobEvent, ParsedBlobEvent } from './parseBlobEvent';
export { BLOB_CREATED, BLOB_DELETED, COMPLETED_WRITE_APIS, parseBlobEvent } from './parseBlobEvent';
