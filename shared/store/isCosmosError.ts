/** Recognises Cosmos DB errors by their status code, without instanceof, so duplicate SDK copies still match. */

/** The fields of @azure/cosmos `ErrorResponse` that decisions are made on. */
export interface CosmosErrorLike {
  /** The HTTP status for service errors; a string such as `ECONNREFUSED` or `TimeoutError` for transport errors. */
  code?: number | string;
  statusCode?: number;
  substatus?: number;
  retryAfterInMs?: number;
}

/**
 * True when `e` is an error from Cosmos DB carrying an HTTP status, and, when `statusCode` is given, that status.
 * E.g. `isCosmosError(e, StatusCodes.PreconditionFailed)` for a lost IfMatch race, `StatusCodes.Conflict` for a create
 * that found the document already there.
 */
export function isCosmosError(e: unknown, statusCode?: number): e is Error & CosmosErrorLike {
  const status = cosmosStatus(e);
  return status !== undefined && (statusCode === undefined || status === statusCode);
}

/** The HTTP status of a Cosmos error, from `code` (ErrorResponse) or `statusCode`; undefined for anything else. */
export function cosmosStatus(e: unknown): number | undefined {
  if (!(e instanceof Error)) return undefined;
  const { code, statusCode } = e as CosmosErrorLike;
  if (typeof code === 'number') return code;
  if (typeof statusCode === 'number') return statusCode;
  return undefined;
}
