/**
 * Event Grid's delivery retry policy for webhooks, as Microsoft documents it ("Event Grid message delivery and
 * retry"): retries after 10 s, 30 s, 1 min, 5 min, 10 min, 30 min, 1 h, 3 h, 6 h, then every 12 h, up to 30 attempts
 * or 24 h (event time to live), with a little randomness on every step.
 */

export const EVENT_GRID_RETRY_SCHEDULE_MS: readonly number[] = [
  10_000,
  30_000,
  60_000,
  5 * 60_000,
  10 * 60_000,
  30 * 60_000,
  60 * 60_000,
  3 * 60 * 60_000,
  6 * 60 * 60_000,
  12 * 60 * 60_000,
];

/** Default `maxDeliveryAttempts` of an event subscription. */
export const EVENT_GRID_MAX_ATTEMPTS = 30;
/** Default event time to live: 1440 minutes. */
export const EVENT_GRID_EVENT_TTL_MS = 24 * 60 * 60_000;
/** Event Grid waits this long for a webhook's answer before counting the attempt as failed. */
export const EVENT_GRID_DELIVERY_TIMEOUT_MS = 30_000;
/**
 * Webhook answers Event Grid does not retry: the request itself is wrong, so repeating it cannot help; the event
 * goes to the dead-letter destination at once.
 */
export const NOT_RETRIED_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 413]);

/** ± this fraction of randomness on each delay. */
export const RETRY_JITTER = 0.2;

/**
 * Delay before the next attempt once `failedAttempts` (≥ 1) attempts have failed, times `scale` (1 is Azure's
 * schedule; the local stand-in compresses it), with ±20 % jitter from `random` (0..1).
 */
export function retryDelayMs(failedAttempts: number, scale: number, random: () => number = Math.random): number {
  const i = Math.min(Math.max(failedAttempts, 1), EVENT_GRID_RETRY_SCHEDULE_MS.length) - 1;
  const base = (EVENT_GRID_RETRY_SCHEDULE_MS[i] as number) * scale;
  return Math.max(0, Math.round(base * (1 + (random() * 2 - 1) * RETRY_JITTER)));
}
