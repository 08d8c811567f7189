export type { BlobFacts, StorageBlobEvent } from './blobEvents';
export { blobCreatedEvent, blobDeletedEvent, LOCAL_SUBSCRIPTION_ID, nextSequencer, storageTopic } from './blobEvents';
export type { BlobEvent, ParsedBlobEvent } from './parseBlobEvent';
export { BLOB_CREATED, BLOB_DELETED, COMPLETED_WRITE_APIS, parseBlobEvent } from './parseBlobEvent';
