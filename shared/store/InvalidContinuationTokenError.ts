/** A list request came with a continuation token this store did not issue for that query: the caller's fault (HTTP 400). */

export class InvalidContinuationTokenError extends Error {
  override readonly name = 'InvalidContinuationTokenError';
}

// Checks `name` too, so it survives duplicate copies of this module.
export function isInvalidContinuationTokenError(e: unknown): e is InvalidContinuationTokenError {
  return e instanceof InvalidContinuationTokenError || (e instanceof Error && e.name === 'InvalidContinuationTokenError');
}
