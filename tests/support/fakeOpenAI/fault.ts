/** The misbehaviours a test can queue on the fake, one per incoming chat request. */
import type { FilterCategory } from './serviceContract';

export type { FilterCategory } from './serviceContract';

export type Fault =
  /** 429 with Azure's quota body; `retry-after-ms` and/or `retry-after` as given (both, 1 s, when neither is). */
  | { kind: 'throttle'; retryAfterMs?: number; retryAfterSeconds?: number }
  /** 500 (default), 502 or 503 with Azure's body. */
  | { kind: 'server-error'; status?: 500 | 502 | 503 }
  /** Waits `delayMs`, then answers normally. */
  | { kind: 'slow'; delayMs: number }
  /** Never answers, until the client aborts or the fake closes. */
  | { kind: 'hang' }
  /** 400 `content_filter` with `innererror.content_filter_result` marking the category (default violence). */
  | { kind: 'content-filter-prompt'; category?: FilterCategory }
  /** 200, finish_reason `content_filter`, partial content, the choice's `content_filter_results` marking the category. */
  | { kind: 'content-filter-finish'; category?: FilterCategory }
  /** 200, finish_reason `length`, the JSON content cut off halfway. */
  | { kind: 'length' }
  /** 200, content that is not JSON. */
  | { kind: 'malformed-json' }
  /** 200, valid JSON, but the first enum field holds `value` (default 'not_in_enum'). */
  | { kind: 'outside-enum'; value?: string }
  /** 200, `choices: []`. */
  | { kind: 'empty-choices' }
  /** 200, a valid answer whose `logprobs` is null even if they were asked for (endpoints that give none). */
  | { kind: 'no-logprobs' };

export const DEFAULT_FILTER_CATEGORY: FilterCategory = 'violence';
