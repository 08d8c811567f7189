/** Errors that say whether retrying can help: the pipeline and the HTTP layer decide by kind, never by message. */

/** Stable machine-readable reasons stored in documents (`error.code`) and returned in problem JSON. */
export type ErrorCode =
  // bad input: permanent, the document ends `rejected`
  | 'empty_blob'
  | 'too_large'
  | 'too_many_pixels'
  | 'unsupported_format'
  | 'corrupt_image'
  | 'blob_not_found'
  | 'unknown_profile'
  | 'content_filtered'
  | 'profile_not_supported'
  | 'invalid_image'
  // model misbehaviour after its retry: permanent, the document ends `failed`
  | 'model_invalid_output'
  | 'model_bad_request'
  // transient: thrown so Event Grid (or the HTTP caller) retries
  | 'in_flight'
  | 'model_throttled'
  | 'model_unavailable'
  | 'model_timeout'
  // transient but a misconfiguration (401/403, 404): redelivered, and repeated ones open the model circuit breaker
  | 'model_auth'
  | 'model_deployment_not_found'
  | 'storage_unavailable'
  | 'store_unavailable'
  // transient by design: DAILY_BUDGET_USD is reached, new work waits for the next day (or a higher cap)
  | 'budget_reached'
  // an outbound event could not be published: the document is final, the event is retried (redelivery, reconcile)
  | 'outbound_unavailable';

export type ErrorKind = 'permanent' | 'transient';

export interface BlobsightErrorOptions {
  cause?: unknown;
  /** Server-suggested wait before retrying (transient only). */
  retryAfterMs?: number;
  /** Extra facts worth storing, e.g. the content-filter category. */
  details?: Record<string, unknown>;
}

export abstract class BlobsightError extends Error {
  abstract readonly kind: ErrorKind;
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: BlobsightErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }
}

/** Retrying cannot help: bad input, content filtered, a model answer that stays invalid. */
export class PermanentError extends BlobsightError {
  readonly kind = 'permanent' as const;
  override readonly name = 'PermanentError';
}

/** Retrying later can help: throttling, 5xx, timeouts, connection faults. */
export class TransientError extends BlobsightError {
  readonly kind = 'transient' as const;
  override readonly name = 'TransientError';
}

/** Configuration is missing or malformed; raised once at start-up with every problem listed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super(`Invalid blobsight configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.issues = issues;
  }
}

/** Codes that mean the model endpoint is misconfigured (identity, role, deployment), not overloaded. */
export const MODEL_MISCONFIGURATION_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['model_auth', 'model_deployment_not_found']);

export function isModelMisconfiguration(e: unknown): e is TransientError {
  return isTransientError(e) && MODEL_MISCONFIGURATION_CODES.has(e.code);
}

// Guards check `name` too, so they survive duplicate copies of this module (style: isRestError).
export function isPermanentError(e: unknown): e is PermanentError {
  return e instanceof PermanentError || (e instanceof Error && e.name === 'PermanentError' && 'code' in e);
}

export function isTransientError(e: unknown): e is TransientError {
  return e instanceof TransientError || (e instanceof Error && e.name === 'TransientError' && 'code' in e);
}

export function isConfigError(e: unknown): e is ConfigError {
  return e instanceof ConfigError || (e instanceof Error && e.name === 'ConfigError');
}
