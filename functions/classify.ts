/** POST /api/classify?profile=: classify one image now, returning the result without storing it. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { app } from '@azure/functions';

import { classifyHttp } from '../shared/http';
import { getServices } from '../shared/runtime';
import { toHttpContext, toResponseInit, toWebRequest } from './lib/adapters';

export async function classify(req: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const s = await getServices();
  const res = await classifyHttp(toWebRequest(req), toHttpContext(req, context), {
    classifier: s.classifier,
    profiles: s.profiles,
    defaultProfile: s.config.defaultProfile,
    limits: s.config.limits,
  });
  return toResponseInit(res);
}

app.http('classify', { methods: ['POST'], authLevel: 'function', route: 'classify', handler: classify });
