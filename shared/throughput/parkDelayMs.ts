/** How long a throttled event stays parked: levelled on the whole deployment's backlog the first time, on this instance's schedule after. */
import type { QuotaPacer } from './QuotaPacer';

/**
 * - First park (straight from Event Grid): behind everything already parked, i.e. the queue's length × tokens per
 *   request at the target rate of the whole deployment, so a burst leaves the queue at the quota's pace.
 * - A message that comes back and still finds no slot has already waited its turn: it waits only for this
 *   instance's next slot (or the deployment's `retry-after`), not for the whole queue again.
 * Either way the return is jittered over a few slots (QuotaPacer.parkDelayMs), so a batch does not reappear at once.
 */
export function parkDelayMs(pacer: QuotaPacer | undefined, previousParks: number, retryAfterMs: number, backlogMessages: number, tokensPerRequest: number): number {
  if (pacer === undefined) return Math.ceil(retryAfterMs);
  return pacer.parkDelayMs(retryAfterMs, previousParks === 0 ? backlogMessages : 0, tokensPerRequest);
}
