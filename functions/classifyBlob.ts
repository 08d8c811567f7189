/** Event Grid trigger: a BlobCreated event from the images container becomes one Cosmos DB document. */
import { registerEventGrid } from './lib/register';

export const classifyBlob = registerEventGrid('classifyBlob');
