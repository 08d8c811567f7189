/** Publishes to an Event Grid custom topic with the app's identity (the EventGrid Data Sender role; no access key). */
import type { SendCloudEventInput } from '@azure/eventgrid';
import { EventGridPublisherClient } from '@azure/eventgrid';
import type { TokenCredential } from '@azure/identity';

import type { OutboundPublisher } from './OutboundPublisher';

export function eventGridPublisher(endpoint: string, credential: TokenCredential): OutboundPublisher {
  const client = new EventGridPublisherClient(endpoint, 'CloudEvent', credential);
  return {
    target: `Event Grid topic ${new URL(endpoint).host}`,
    send: async (events) => {
      const input: SendCloudEventInput<unknown>[] = events.map((e) => ({ id: e.id, type: e.type, source: e.source, subject: e.subject, time: new Date(e.time), datacontenttype: e.datacontenttype, data: e.data }));
      await client.send(input);
    },
  };
}
