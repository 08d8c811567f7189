/** GET /api/health: storage and Cosmos DB reachable, model configured. Anonymous, spends no tokens. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { app } from '@azure/functions';

import { errorToResponse, healthHttp } from '../shared/http';
import { getServices } from '../shared/runtime';
import { toHttpContext, toLogger, toResponseInit, toWebRequest } from './lib/adapters';

export async function health(req: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let services;
  try {
    services = await getServices();
  } catch (e) {
    // A configuration error is exactly what a health probe should report.
    return toResponseInit(errorToResponse(e, toLogger(context)));
  }
  return toResponseInit(await healthHttp(toWebRequest(req), toHttpContext(req, context), services.health));
}

app.http('health', { methods: ['GET'], authLevel: 'anonymous', route: 'health', handler: health });
