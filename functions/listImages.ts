/** GET /api/images: query documents by status, label, profile, confidence range and time, with paging. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { app } from '@azure/functions';

import { listImagesHttp } from '../shared/http';
import { getServices } from '../shared/runtime';
import { toHttpContext, toResponseInit, toWebRequest } from './lib/adapters';

export async function listImages(req: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const s = await getServices();
  return toResponseInit(await listImagesHttp(toWebRequest(req), toHttpContext(req, context), { store: s.store }));
}

app.http('listImages', { methods: ['GET'], authLevel: 'function', route: 'images', handler: listImages });
