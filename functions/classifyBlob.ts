/** Event Grid trigger: one BlobCreated event from the images container becomes one Cosmos DB document. */
import type { EventGridEvent, InvocationContext } from '@azure/functions';
import { app } from '@azure/functions';

import { processBlobCreated } from '../shared/pipeline';
import { getServices, pipelineDeps } from '../shared/runtime';
import { toLogger } from './lib/adapters';

/**
 * Returns normally when the event is done with (stored, duplicate, ignored); throws when it must be redelivered, so
 * Event Grid's retry policy and dead-lettering apply. The name is part of the infrastructure contract (the Event Grid
 * subscription points at it): renaming it is a breaking change.
 */
export async function classifyBlob(event: EventGridEvent, context: InvocationContext): Promise<void> {
  const log = toLogger(context);
  const services = await getServices();
  const result = await processBlobCreated(event, pipelineDeps(services, log));
  context.log(`classifyBlob ${event.subject}: ${result.outcome}`);
}

app.eventGrid('classifyBlob', { handler: classifyBlob });
