/**
 * One parked message, drained: the event runs through the same pipeline as from Event Grid. The message is deleted
 * (the handler returns) only once the pipeline says the event is done with — a final document, a duplicate, a
 * superseded or deleted blob — or after it was parked again (a new message holds it). Anything else throws, so the
 * queue delivers the message again and, after maxDequeueCount, moves it to `<queue>-poison`.
 */
import type { Logger } from '../logging';
import type { BlobOutcome } from '../pipeline';
import { readParkedMessage } from './parkedMessage';
import type { ParkedOutcome,Parking } from './runOrPark';
import { runOrPark } from './runOrPark';

export async function drainParkedEvent(
  raw: unknown,
  parking: Parking | undefined,
  log: Logger,
  run: (event: unknown) => Promise<BlobOutcome>,
): Promise<BlobOutcome | ParkedOutcome> {
  const message = readParkedMessage(raw);
  if (message === undefined) {
    // Not something we parked: retrying cannot make it one. Thrown, so the host moves it to the poison queue, where
    // it stays for a person to look at; the reconcile sweep finds any blob it may have been about.
    log.error('parked-events message is not a parked event', {});
    throw new Error('Not a parked event message (expected {"v":1,"event":...,"parks":n,"parkedAt":...}); it goes to the poison queue.');
  }
  return runOrPark(message.event, message.parks, parking, log, () => run(message.event));
}
