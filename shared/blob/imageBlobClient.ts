/** The only way the pipeline turns a name into a blob client: names that could leave the container never get one. */
import type { BlobClient, ContainerClient } from '@azure/storage-blob';

import { blobNameProblem } from './blobNameProblem';

/**
 * `container.getBlobClient(name)`, refusing (RangeError) a name blobNameProblem rejects. Callers check names from
 * outside first and answer with a reason; reaching this throw is a bug, and it stops the read rather than letting
 * URL normalisation resolve `..` into another container.
 */
export function imageBlobClient(container: ContainerClient, name: string): BlobClient {
  const problem = blobNameProblem(name);
  if (problem !== null) throw new RangeError(`Refusing blob name ${JSON.stringify(name)}: ${problem}`);
  return container.getBlobClient(name);
}
