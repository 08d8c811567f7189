/** Parks events in an Azure Storage queue (Azurite locally): invisible for the delay, then drained by the queue trigger. */
import type { QueueClient } from '@azure/storage-queue';

import type { ParkedMessage } from './parkedMessage';
import { encodeParkedMessage } from './parkedMessage';
import type { ParkingLot } from './ParkingLot';

/** The queue's largest visibility timeout is 7 days; a park never needs more than a few hours. */
const MAX_VISIBILITY_S = 7 * 24 * 3600 - 1;

export class QueueParkingLot implements ParkingLot<ParkedMessage> {
  constructor(private readonly queue: QueueClient) {}

  async park(message: ParkedMessage, delayMs: number): Promise<void> {
    // Whole seconds (the queue's unit), rounded up: never earlier than the quota allows.
    const visibilityTimeout = Math.min(MAX_VISIBILITY_S, Math.max(0, Math.ceil(delayMs / 1000)));
    // messageTimeToLive -1: a parked event never expires; it leaves only when drained (or as poison).
    await this.queue.sendMessage(encodeParkedMessage(message), { visibilityTimeout, messageTimeToLive: -1 });
  }

  async backlog(): Promise<number> {
    const p = await this.queue.getProperties();
    return p.approximateMessagesCount ?? 0;
  }
}
