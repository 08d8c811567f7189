/** The dev host's Event Grid stand-in builds its events with the shared builder; re-exported under the old path. */
export type { BlobFacts, StorageBlobEvent } from '../../shared/events/blobEvents';
export { blobCreatedEvent, blobDeletedEvent, nextSequencer, storageTopic } from '../../shared/events/blobEvents';
