/** GET /api/images/{id}: one image document. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { app } from '@azure/functions';

import { getImageHttp } from '../shared/http';
import { getServices } from '../shared/runtime';
import { toHttpContext, toResponseInit, toWebRequest } from './lib/adapters';

export async function getImage(req: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const s = await getServices();
  return toResponseInit(await getImageHttp(toWebRequest(req), toHttpContext(req, context), { store: s.store }));
}

app.http('getImage', { methods: ['GET'], authLevel: 'function', route: 'images/{id}', handler: getImage });
