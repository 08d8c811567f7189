/** Where outbound events go: an Event Grid topic in Azure, webhooks locally. */
import type { OutboundCloudEvent } from './outboundEvent';

export interface OutboundPublisher {
  /** For logs: where the events go (no secrets). */
  readonly target: string;
  /** Resolves once every receiver accepted the events; throws when one did not (after its own retries). */
  send(events: OutboundCloudEvent[]): Promise<void>;
}
