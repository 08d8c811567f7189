/** Registers a function from the shared table with the Azure Functions runtime: trigger shape only, no logic. */
import type { EventGridEvent, HttpRequest, HttpResponseInit, InvocationContext, Timer } from '@azure/functions';
import { app } from '@azure/functions';

import { errorToResponse, json } from '../../shared/http';
import type { FunctionName, Services } from '../../shared/runtime';
import { eventGridFunction, getServices, httpFunction, queueFunction, timerFunction } from '../../shared/runtime';
import { setupTelemetry, withTraceParent } from '../../shared/telemetry';
import { toHttpContext, toLogger, toResponseInit, toWebRequest } from './adapters';

/**
 * Request bodies reach the handlers as streams in Azure too. Without this the host reads each whole body into the
 * invocation message before the worker sees a byte, so the streamed size limits (MAX_IMAGE_BYTES) would only guard
 * the dev host. Every functions/*.ts registers through this module, so every entry point gets it.
 */
app.setup({ enableHttpStream: true });

/**
 * OpenTelemetry, once per worker: Azure Monitor in Azure (keyless), OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, else off.
 * A failure to start telemetry is logged, never fatal: images are processed without it.
 */
void setupTelemetry().catch((e: unknown) => console.error(`telemetry not started: ${e instanceof Error ? e.message : String(e)}`));

export type HttpHandler = (req: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;
export type EventGridHandler = (event: EventGridEvent, context: InvocationContext) => Promise<void>;

export function registerHttp(name: FunctionName): HttpHandler {
  const def = httpFunction(name);
  const handler: HttpHandler = async (req, context) => {
    const ctx = toHttpContext(req, context);
    let services: Services;
    try {
      services = await getServices();
    } catch (e) {
      // A configuration error becomes a 503 naming the settings to fix, for key holders. An anonymous route (health,
      // the page, the signed-in API) answers a bare status: setting names and values are not for anyone on the internet.
      const response = errorToResponse(e, ctx.log);
      return toResponseInit(def.authLevel === 'anonymous' ? unavailable(response.status) : response);
    }
    return toResponseInit(await def.handler(toWebRequest(req), ctx, services));
  };
  app.http(def.name, { methods: [...def.methods], route: def.route, authLevel: def.authLevel, handler });
  return handler;
}

function unavailable(status: number): Response {
  return json({ status: 'unavailable' }, status >= 500 ? status : 503);
}

/** Returns normally when the event is done with; throws so Event Grid redelivers (retry policy, then dead-letter). */
export function registerEventGrid(name: FunctionName): EventGridHandler {
  const def = eventGridFunction(name);
  const handler: EventGridHandler = async (event, context) => {
    const result = await withTraceParent(context.traceContext?.traceParent, context.traceContext?.traceState, async () => def.handler(event, toLogger(context), await getServices()));
    context.log(`${def.name} ${event.subject}: ${result.outcome}`);
  };
  app.eventGrid(def.name, { handler });
  return handler;
}

export type TimerHandler = (timer: Timer, context: InvocationContext) => Promise<void>;

export function registerTimer(name: FunctionName): TimerHandler {
  const def = timerFunction(name);
  const handler: TimerHandler = async (_timer, context) => {
    const result = await def.handler(toLogger(context), await getServices());
    context.log(`${def.name} finished`, result);
  };
  app.timer(def.name, { schedule: def.schedule, handler, runOnStartup: false });
  return handler;
}

export type QueueHandler = (message: unknown, context: InvocationContext) => Promise<void>;

/** Returns normally when the message may be deleted; throws so the host retries it (then moves it to `<queue>-poison`). */
export function registerQueue(name: FunctionName): QueueHandler {
  const def = queueFunction(name);
  const handler: QueueHandler = async (message, context) => {
    const result = await def.handler(message, toLogger(context), await getServices());
    context.log(`${def.name}: ${result.outcome}`);
  };
  // The host's identity-based AzureWebJobsStorage connection (AzureWebJobsStorage__queueServiceUri + managed identity).
  app.storageQueue(def.name, { queueName: def.queueName, connection: 'AzureWebJobsStorage', handler });
  return handler;
}
