/** Event Grid's dead-letter records: the undeliverable event plus why, written as a JSON blob like Event Grid does. */
import { randomUUID } from 'node:crypto';

import type { StorageBlobEvent } from './blobEvents';

export type DeadLetterReason = 'MaxDeliveryAttemptsExceeded' | 'TimeToLiveExceeded' | 'UndeliverableDueToClientError';

export interface DeadLetteredEvent extends StorageBlobEvent {
  deadLetterReason: DeadLetterReason;
  deliveryAttempts: number;
  /** Event Grid's name for the last answer: Succeeded, BadRequest, NotFound, TimedOut, Busy, GenericError... */
  lastDeliveryOutcome: string;
  /** 0 when no HTTP answer came (timeout, connection refused). */
  lastHttpStatusCode: number;
  publishTime: string;
  lastDeliveryAttemptTime: string;
}

/** Event Grid's outcome names for the answer of one delivery attempt. */
export function deliveryOutcome(status: number | null, failure?: 'timeout' | 'network'): string {
  if (status === null) return failure === 'timeout' ? 'TimedOut' : 'GenericError';
  if (status >= 200 && status < 300) return 'Succeeded';
  switch (status) {
    case 400:
      return 'BadRequest';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 408:
      return 'TimedOut';
    case 413:
      return 'RequestEntityTooLarge';
    case 429:
    case 503:
      return 'Busy';
    default:
      return 'GenericError';
  }
}

/** The event as it lands in the dead-letter container. */
export function deadLetterRecord(
  event: StorageBlobEvent,
  reason: DeadLetterReason,
  attempt: { attempts: number; status: number | null; outcome: string; publishedAt: Date; lastAttemptAt: Date },
): DeadLetteredEvent {
  return {
    ...event,
    deadLetterReason: reason,
    deliveryAttempts: attempt.attempts,
    lastDeliveryOutcome: attempt.outcome,
    lastHttpStatusCode: attempt.status ?? 0,
    publishTime: attempt.publishedAt.toISOString(),
    lastDeliveryAttemptTime: attempt.lastAttemptAt.toISOString(),
  };
}

/**
 * `<TOPIC NAME>/<SUBSCRIPTION NAME>/<yyyy>/<M>/<d>/<H>/<uuid>.json`: names upper-cased and the date parts (UTC) not
 * zero-padded, as Microsoft documents Event Grid's dead-letter blobs.
 */
export function deadLetterBlobName(topic: string, subscriptionName: string, at: Date, id: string = randomUUID()): string {
  const topicName = topic.split('/').filter((s) => s !== '').pop() ?? 'topic';
  const parts = [topicName.toUpperCase(), subscriptionName.toUpperCase(), at.getUTCFullYear(), at.getUTCMonth() + 1, at.getUTCDate(), at.getUTCHours()];
  return `${parts.join('/')}/${id}.json`;
}
