/**
 * Runs the pipeline for one event, and parks the event instead of handing it back to Event Grid when the model is
 * throttled (the pacer found no slot within PACER_MAX_WAIT_MS, or the deployment still answered 429). By then the
 * pipeline has released its claim and written nothing final; the parked message carries the event as delivered,
 * and processBlobCreated judges it against the blob and the document again when it comes back. Parking is the
 * last step: if it fails, the original error is thrown and Event Grid (or the queue) redelivers as before.
 */
import type { QueueClient } from '@azure/storage-queue';

import { isTransientError } from '../errors';
import type { Logger } from '../logging';
import type { BlobOutcome } from '../pipeline';
import { parkDelayMs } from './parkDelayMs';
import type { ParkedMessage } from './parkedMessage';
import type { ParkingLot } from './ParkingLot';
import type { QuotaPacer } from './QuotaPacer';

export interface ParkedOutcome {
  outcome: 'parked';
  delayMs: number;
  parks: number;
}

export interface Parking {
  lot: ParkingLot<ParkedMessage>;
  pacer: QuotaPacer | undefined;
  /** The queue behind `lot`, for whoever drains it (the dev host) and creates it (npm start). */
  queue?: QueueClient;
}

export async function runOrPark(
  event: unknown,
  previousParks: number,
  parking: Parking | undefined,
  log: Logger,
  run: () => Promise<BlobOutcome>,
  now: () => Date = () => new Date(),
): Promise<BlobOutcome | ParkedOutcome> {
  try {
    return await run();
  } catch (e) {
    if (parking === undefined || !isTransientError(e) || e.code !== 'model_throttled') throw e;
    try {
      const backlog = previousParks === 0 ? await parking.lot.backlog() : 0;
      const delayMs = parkDelayMs(parking.pacer, previousParks, e.retryAfterMs ?? 0, backlog, parking.pacer?.averageTokens() ?? 0);
      const parks = previousParks + 1;
      await parking.lot.park({ v: 1, event, parks, parkedAt: now().toISOString() }, delayMs);
      log.info('model throttled: event parked until the quota has room', { delayMs, parks, backlog });
      return { outcome: 'parked', delayMs, parks };
    } catch (parkError) {
      log.warn('could not park the throttled event; handing it back for redelivery', { error: parkError instanceof Error ? parkError.message : String(parkError) });
      throw e;
    }
  }
}
